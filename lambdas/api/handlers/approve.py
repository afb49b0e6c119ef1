"""Lambda entry point of the API's approve routes."""

from lambdas.api.app import create_app, lambda_handler_for
from lambdas.api.routes.writes import approval

app = create_app(approval)
lambda_handler = lambda_handler_for(app)
