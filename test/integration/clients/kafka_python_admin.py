"""
kafka-python's KafkaAdminClient (Debian python3-kafka 2.0.2) against a Brook broker: run by
test/integration/admin-kafka-python.test.ts under /usr/bin/python3 with the bootstrap address as
argv[1]. Every step's outcome goes into one JSON object on stdout, which the test checks; an
unexpected exception fails the run with its traceback.
"""
import json
import sys

from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient, NewPartitions, NewTopic
from kafka.errors import KafkaError

bootstrap = sys.argv[1]
node_id = sys.argv[2]
out = {}


def failure(fn):
    """Runs fn, which must raise a KafkaError; returns [error class name, its text]."""
    try:
        fn()
    except KafkaError as e:
        return [type(e).__name__, str(e)]
    raise AssertionError("expected a KafkaError")


def configs_of(responses):
    """{resource name: {config name: [value, read_only, config_source]}} of DescribeConfigs v1/v2 responses."""
    result = {}
    for response in responses:
        for r in response.to_object()["resources"]:
            result[r["resource_name"]] = {
                "error_code": r["error_code"],
                "configs": {c["config_names"]: [c["config_value"], c["read_only"], c["config_source"]] for c in r["config_entries"]},
            }
    return result


admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="brook-kafka-python-admin", request_timeout_ms=10000)
try:
    res = admin.create_topics([NewTopic("py-a", 2, 1, topic_configs={"retention.ms": "90000"})])
    out["create"] = [list(t[:3]) for t in res.topic_errors]
    out["create_version"] = res.API_VERSION
    out["create_again"] = failure(lambda: admin.create_topics([NewTopic("py-a", 1, 1)]))
    out["create_rf3"] = failure(lambda: admin.create_topics([NewTopic("py-rf3", 1, 3)]))
    out["create_bad_config"] = failure(lambda: admin.create_topics([NewTopic("py-bad", 1, 1, topic_configs={"retention.ms": "abc"})]))

    out["describe"] = configs_of(admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, "py-a")]))
    out["describe_broker"] = configs_of(admin.describe_configs([ConfigResource(ConfigResourceType.BROKER, node_id)]))

    res = admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, "py-a", configs={"retention.ms": "123456"})])
    out["alter"] = [[r["error_code"], r["error_message"]] for r in res.to_object()["resources"]]
    res = admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, "py-a", configs={"retention.ms": "abc"})])
    out["alter_bad"] = [[r["error_code"], r["error_message"]] for r in res.to_object()["resources"]]
    res = admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, "py-a", configs={"no.such.config": "1"})])
    out["alter_unknown"] = [[r["error_code"], r["error_message"]] for r in res.to_object()["resources"]]
    out["describe_after_alter"] = configs_of(admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, "py-a", configs={"retention.ms": None})]))

    res = admin.create_partitions({"py-a": NewPartitions(4)})
    out["grow"] = [list(t[:3]) for t in res.topic_errors]
    out["shrink"] = failure(lambda: admin.create_partitions({"py-a": NewPartitions(3)}))
    out["partitions"] = {t["topic"]: len(t["partitions"]) for t in admin.describe_topics(["py-a"])}

    res = admin.delete_topics(["py-a"])
    out["delete"] = [list(t[:2]) for t in res.topic_error_codes]
    out["topics_after_delete"] = sorted(admin.list_topics())
    out["delete_again"] = failure(lambda: admin.delete_topics(["py-a"]))
finally:
    admin.close()

print(json.dumps(out))
