from flask import Blueprint

bp = Blueprint("passes", __name__, template_folder="templates")
