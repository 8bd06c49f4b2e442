from flask import Blueprint

bp = Blueprint("workers", __name__, template_folder="templates")
