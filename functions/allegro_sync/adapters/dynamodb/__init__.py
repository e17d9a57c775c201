"""DynamoDB repositories: conditional writes keep concurrent Lambdas from overwriting each other."""
