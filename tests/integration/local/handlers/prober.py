"""Makes the one AWS call its event names, with its own application's clients (for the local IAM test)."""

from __future__ import annotations

from typing import Any

from allegro_sync.bootstrap import application


def handler(event: dict[str, Any], context: Any) -> Any:
    app = application()
    dynamodb, secrets, sqs = (
        app.aws_client("dynamodb"),
        app.aws_client("secretsmanager"),
        app.aws_client("sqs"),
    )
    table = app.settings.table("ledger")
    key = {"pk": {"S": "sku#1"}, "sk": {"S": "ledger"}}
    calls = {
        "read": lambda: dynamodb.get_item(TableName=table, Key=key),
        "write": lambda: dynamodb.put_item(TableName=table, Item=key),
        "scan": lambda: dynamodb.scan(TableName=table),
        "create-secret": lambda: secrets.create_secret(
            Name=app.settings.secret("accounts") + "intruder", SecretString="{}"
        ),
        "send": lambda: sqs.send_message(QueueUrl=event["queue_url"], MessageBody="{}"),
    }
    calls[event["do"]]()
    return {"done": event["do"]}
