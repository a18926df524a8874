"""The Telegram bot (pyTelegramBotAPI) over the `schedule` domain.

factory.create_bot builds it; handlers/ holds what it does by concern; notify.Notifier tells
trainers and clients what happened (the Mini App uses it too); runner.run_polling runs it with
long polling, webapp.webhook by webhook.
"""
