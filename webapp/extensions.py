"""Flask extensions, created once and bound in build_app()."""

from flask_sqlalchemy import SQLAlchemy

from schedule.models import Base

db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})
