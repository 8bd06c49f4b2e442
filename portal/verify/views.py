from flask import Blueprint

bp = Blueprint("verify", __name__, template_folder="templates")
