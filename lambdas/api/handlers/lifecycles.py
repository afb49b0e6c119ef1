"""Lambda entry point of the API's lifecycles routes."""

from lambdas.api.app import create_app, lambda_handler_for
from lambdas.api.routes.writes import lifecycles

app = create_app(lifecycles)
lambda_handler = lambda_handler_for(app)
