from flask import Blueprint

bp = Blueprint("selfservice", __name__, template_folder="templates")
