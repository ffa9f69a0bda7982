"""Independent check: decode bytes written by our AvroConverter with Confluent's own Python deserializer.

stdin:  {"url": <registry URL>, "topic": <topic>, "field": "value"|"key", "messages": [<hex>, ...]}
stdout: a JSON array of the decoded values; bytes as {"$bytes": <hex>}, datetimes (timestamp-millis) as epoch ms.
Exit 3 when confluent-kafka's Avro support is not installed (scripts/registry.sh deps installs it).
"""
import datetime
import json
import sys

try:
    from confluent_kafka.schema_registry import SchemaRegistryClient
    from confluent_kafka.schema_registry.avro import AvroDeserializer
    from confluent_kafka.serialization import MessageField, SerializationContext
except ImportError as exc:  # pragma: no cover - environment check
    print(f"confluent-kafka Avro support missing: {exc}", file=sys.stderr)
    sys.exit(3)


def plain(value):
    if isinstance(value, (bytes, bytearray)):
        return {"$bytes": bytes(value).hex()}
    if isinstance(value, datetime.datetime):
        return round(value.timestamp() * 1000)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def main():
    request = json.load(sys.stdin)
    client = SchemaRegistryClient({"url": request["url"]})
    deserializer = AvroDeserializer(client)
    field = MessageField.KEY if request.get("field") == "key" else MessageField.VALUE
    context = SerializationContext(request["topic"], field)
    decoded = [deserializer(bytes.fromhex(m), context) for m in request["messages"]]
    json.dump(plain(decoded), sys.stdout)


if __name__ == "__main__":
    main()
