"""Production entry point: `waitress-serve wsgi:app` (the composition root builds it)."""

from dotenv import load_dotenv

load_dotenv()

from runtime.compose import production_app  # noqa: E402

app = production_app()
