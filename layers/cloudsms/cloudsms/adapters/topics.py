"""SNS topics the platform publishes to: the operator's order notices (NoticeTopic)."""

from cloudsms.adapters.aws import client


def publish(topic_arn: str, subject: str, message: str, attributes: dict[str, str]) -> None:
    """Publishes a plain-text message; `attributes` become string message attributes, by
    which a subscription may filter what it receives."""
    client("sns").publish(
        TopicArn=topic_arn,
        Subject=subject,
        Message=message,
        MessageAttributes={
            name: {"DataType": "String", "StringValue": value} for name, value in attributes.items()
        },
    )
