"""
One or more consumer-group members in one process, with confluent-kafka (librdkafka) or
kafka-python, for test/integration/groups-*.test.ts. Run under /usr/bin/python3:

    group_member.py <lib: confluent|kafka-python> <bootstrap> <group> <topic> <options as JSON>

options:
    members          how many consumers to run in this process (default 1), polled in turn
    assignor         librdkafka partition.assignment.strategy (range, roundrobin, cooperative-sticky)
                     or kafka-python's (range, roundrobin)
    session_ms       session timeout (default 6000)
    instance_id      group.instance.id of the (single) member: static membership (confluent only)
    expect           stop once this many messages were consumed in total and then every member
                     has an assignment for `settle_s` seconds without change (default: run until killed)
    settle_s         see expect (default 1.0)

Prints one JSON line per event, flushed at once, so a test can follow a live process:
    {"event": "assigned", "member": i, "partitions": [...]}     the member's whole current assignment
    {"event": "message", "member": i, "partition": p, "offset": o, "value": "..."}
    {"event": "done", "assignments": [[...], ...]}               before a clean exit (commit + close)
"""
import json
import sys
import time

lib, bootstrap, group, topic = sys.argv[1:5]
opts = json.loads(sys.argv[5]) if len(sys.argv) > 5 else {}
n = opts.get("members", 1)
session_ms = opts.get("session_ms", 6000)
expect = opts.get("expect")
settle_s = opts.get("settle_s", 1.0)


def emit(**event):
    sys.stdout.write(json.dumps(event) + "\n")
    sys.stdout.flush()



assignments = [[] for _ in range(n)]
consumed = 0
last_change = time.time()


def set_assignment(i, parts):
    global last_change
    parts = sorted(parts)
    if parts != assignments[i]:
        assignments[i] = parts
        last_change = time.time()
        emit(event="assigned", member=i, partitions=parts)


if lib == "confluent":
    from confluent_kafka import Consumer, KafkaError, KafkaException

    consumers = []
    for i in range(n):
        conf = {
            "bootstrap.servers": bootstrap,
            "group.id": group,
            "client.id": "member-%d" % i,
            "auto.offset.reset": "earliest",
            "enable.auto.commit": True,
            "auto.commit.interval.ms": 200,
            "session.timeout.ms": session_ms,
            "heartbeat.interval.ms": 100,
            "topic.metadata.refresh.interval.ms": 1000,
        }
        if "assignor" in opts:
            conf["partition.assignment.strategy"] = opts["assignor"]
        if "instance_id" in opts:
            conf["group.instance.id"] = opts["instance_id"]
        c = Consumer(conf)

        def refresh(consumer, _partitions, i=i):
            set_assignment(i, [tp.partition for tp in consumer.assignment() if tp.topic == topic])

        c.subscribe([topic], on_assign=refresh, on_revoke=refresh, on_lost=refresh)
        consumers.append(c)

    def poll(i):
        global consumed
        msg = consumers[i].poll(0.05)
        set_assignment(i, [tp.partition for tp in consumers[i].assignment() if tp.topic == topic])
        if msg is None:
            return
        if msg.error():
            emit(event="error", member=i, error=str(msg.error()))
            return
        consumed += 1
        emit(event="message", member=i, partition=msg.partition(), offset=msg.offset(), value=msg.value().decode())

    def finish():
        for c in consumers:
            try:
                c.commit(asynchronous=False)
            except KafkaException as e:
                # Nothing new since the last auto-commit: fine.
                if e.args[0].code() != KafkaError._NO_OFFSET:
                    raise
        emit(event="done", assignments=assignments)
        for c in consumers:
            c.close()

elif lib == "kafka-python":
    import threading

    from kafka import KafkaConsumer
    from kafka.coordinator.assignors.range import RangePartitionAssignor
    from kafka.coordinator.assignors.roundrobin import RoundRobinPartitionAssignor

    # kafka-python's poll() blocks in JoinGroup until the rebalance completes, so members sharing a
    # thread would wait on each other forever: each member gets its own thread.
    assignor = {"range": RangePartitionAssignor, "roundrobin": RoundRobinPartitionAssignor}[opts.get("assignor", "range")]
    lock = threading.RLock()
    stop = threading.Event()
    consumers = []
    for i in range(n):
        c = KafkaConsumer(
            bootstrap_servers=bootstrap,
            group_id=group,
            client_id="member-%d" % i,
            auto_offset_reset="earliest",
            enable_auto_commit=True,
            auto_commit_interval_ms=200,
            session_timeout_ms=session_ms,
            heartbeat_interval_ms=100,
            max_poll_interval_ms=10000,
            partition_assignment_strategy=[assignor],
            metadata_max_age_ms=1000,
        )
        c.subscribe([topic])
        consumers.append(c)

    def member_loop(i):
        global consumed
        c = consumers[i]
        while not stop.is_set():
            records = c.poll(timeout_ms=50)
            with lock:
                set_assignment(i, [tp.partition for tp in c.assignment() if tp.topic == topic])
                for batch in records.values():
                    for msg in batch:
                        consumed += 1
                        emit(event="message", member=i, partition=msg.partition, offset=msg.offset, value=msg.value.decode())
        c.commit()

    threads = [threading.Thread(target=member_loop, args=(i,), daemon=True) for i in range(n)]
    for t in threads:
        t.start()

    def poll(i):
        if i == 0:
            time.sleep(0.05)

    def finish():
        stop.set()
        for t in threads:
            t.join()
        emit(event="done", assignments=assignments)
        for c in consumers:
            c.close()

else:
    raise SystemExit("unknown client library " + lib)

while True:
    for i in range(n):
        poll(i)
    if expect is not None and consumed >= expect and all(assignments) and time.time() - last_change >= settle_s:
        finish()
        break
