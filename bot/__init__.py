"""The Telegram bot (pyTelegramBotAPI) over the `schedule` domain.

factory.create_bot builds it; handlers/ holds what it does by concern; notify, passes, series,
reminders and payments word the notices schedule decided and the dispatcher sends;
runner.run_polling runs it with long polling, the runtime's worker by webhook.
"""
