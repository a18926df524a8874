"""Production entry point: `waitress-serve wsgi:app`."""

from dotenv import load_dotenv

load_dotenv()

from webapp import create_app  # noqa: E402

app = create_app()
