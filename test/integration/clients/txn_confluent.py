"""
Transactional scenarios with confluent-kafka 1.7.0 (librdkafka 2.0.2), for
test/integration/transactions-librdkafka.test.ts. Run under /usr/bin/python3:

    txn_confluent.py <scenario> <bootstrap> <topic> [options as JSON]

Each scenario drives the clients itself (the interleavings matter: a reader polls while a
transaction is open) and prints one JSON line per observation, flushed at once; the test asserts on
them. A client error is reported as {"event": "error", "step": ..., "code": ..., "name": ...,
"fatal": ...} rather than raised, so the test can say which step failed and how.

scenarios:
    commit_abort  transactional.id t1: 3 records committed, then 2 aborted (record i to partition i % 2)
    read          every record of partitions 0 and 1 up to EOF, with options.isolation
                  (read_committed | read_uncommitted), then the watermarks it sees
    open_txn      one committed record per partition; then a transaction left open while a
                  read_committed reader runs to EOF; then commit and the reader gets the rest
    fence         a second producer with the same transactional.id fences the first mid-transaction
    timeout       transaction.timeout.ms 2000, 4 s asleep, then commit; then another producer commits
    max_timeout   transaction.timeout.ms above the broker's transaction.max.timeout.ms
    eos           consume-transform-produce with send_offsets_to_transaction: commit, abort, then a
                  commit left pending while a second consumer of the group starts (options.output:
                  the output topic)
"""
import json
import sys
import time
import uuid

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition

scenario, bootstrap, topic = sys.argv[1:4]
opts = json.loads(sys.argv[4]) if len(sys.argv) > 4 else {}
PARTITIONS = [0, 1]


def emit(**event):
    sys.stdout.write(json.dumps(event) + "\n")
    sys.stdout.flush()


def emit_error(step, e):
    err = e.args[0] if e.args and isinstance(e.args[0], KafkaError) else None
    if err is None:
        emit(event="error", step=step, code=None, name=type(e).__name__, text=str(e), fatal=None)
    else:
        emit(event="error", step=step, code=err.code(), name=err.name(), text=err.str(), fatal=err.fatal())


def producer(txn_id, **extra):
    conf = {"bootstrap.servers": bootstrap, "transactional.id": txn_id, "transaction.timeout.ms": 10000, "linger.ms": 5}
    conf.update(extra)
    return Producer(conf)


def delivered(err, msg):
    if err is not None:
        emit(event="delivery_error", code=err.code(), name=err.name(), value=msg.value().decode())


def send(p, values, partitions=None, to=topic):
    for i, v in enumerate(values):
        p.produce(to, value=v.encode(), partition=(partitions[i] if partitions else i % 2), on_delivery=delivered)
    p.flush(10)


def reader(isolation="read_committed", group=None, **extra):
    conf = {
        "bootstrap.servers": bootstrap,
        "group.id": group or "reader-" + uuid.uuid4().hex,
        "isolation.level": isolation,
        "auto.offset.reset": "earliest",
        "enable.partition.eof": True,
        "enable.auto.commit": False,
        "fetch.wait.max.ms": 100,
    }
    conf.update(extra)
    return Consumer(conf)


def read_to_eof(c, timeout_s=10.0, parts=PARTITIONS):
    """Polls until every partition reported EOF (since the last message) or timeout_s passed."""
    out = []
    at_eof = set()
    deadline = time.time() + timeout_s
    while len(at_eof) < len(parts) and time.time() < deadline:
        m = c.poll(0.2)
        if m is None:
            continue
        if m.error():
            if m.error().code() == KafkaError._PARTITION_EOF:
                at_eof.add(m.partition())
            else:
                emit(event="consume_error", code=m.error().code(), name=m.error().name())
            continue
        at_eof.discard(m.partition())
        out.append({"partition": m.partition(), "offset": m.offset(), "value": m.value().decode() if m.value() is not None else None, "key": m.key().hex() if m.key() is not None else None})
    return out, sorted(at_eof)


def watermarks(c):
    """get_watermark_offsets(cached=False) asks the broker: ListOffsets with the consumer's isolation
    level (rdkafka_request.c), so `high` is the LSO for read_committed and the high watermark otherwise."""
    return [list(c.get_watermark_offsets(TopicPartition(topic, p), timeout=5, cached=False)) for p in PARTITIONS]


def assign_all(c, to=topic):
    c.assign([TopicPartition(to, p, 0) for p in PARTITIONS])


if scenario == "commit_abort":
    p = producer("t1")
    p.init_transactions(10)
    p.begin_transaction()
    send(p, ["c0", "c1", "c2"])
    p.commit_transaction()
    p.begin_transaction()
    send(p, ["a0", "a1"])
    p.abort_transaction()
    emit(event="done")

elif scenario == "read":
    c = reader(opts.get("isolation", "read_committed"))
    assign_all(c)
    records, eof = read_to_eof(c)
    emit(event="read", records=records, eof=eof, watermarks=watermarks(c))
    c.close()

elif scenario == "open_txn":
    p = producer("t-open")
    p.init_transactions(10)
    p.begin_transaction()
    send(p, ["before0", "before1"])
    p.commit_transaction()
    p.begin_transaction()
    send(p, ["open0", "open1"])
    c = reader("read_committed")
    assign_all(c)
    records, eof = read_to_eof(c, 5.0)
    # Nothing more arrives while the transaction stays open, however long the reader polls.
    more, _ = read_to_eof(c, 1.5)
    emit(event="while_open", records=records + more, eof=eof, watermarks=watermarks(c))
    p.commit_transaction()
    after, eof2 = read_to_eof(c, 10.0)
    emit(event="after_commit", records=after, eof=eof2, watermarks=watermarks(c))
    c.close()

elif scenario == "fence":
    first = producer("t-fence")
    first.init_transactions(10)
    first.begin_transaction()
    send(first, ["zombie0"], [0])
    emit(event="first_open")
    second = producer("t-fence")
    second.init_transactions(10)
    emit(event="second_initialized")
    try:
        send(first, ["zombie1"], [1])
        first.commit_transaction(10)
        emit(event="first_committed")
    except KafkaException as e:
        emit_error("first_commit", e)
    second.begin_transaction()
    send(second, ["second0"], [0])
    second.commit_transaction()
    emit(event="second_committed")

elif scenario == "timeout":
    p = producer("t-timeout", **{"transaction.timeout.ms": 2000})
    p.init_transactions(10)
    p.begin_transaction()
    send(p, ["late0", "late1"])
    emit(event="open")
    time.sleep(4)
    try:
        p.commit_transaction(10)
        emit(event="committed")
    except KafkaException as e:
        emit_error("commit", e)
    c = reader("read_committed")
    emit(event="watermarks_after_timeout", watermarks=watermarks(c))
    q = producer("t-timeout-next")
    q.init_transactions(10)
    q.begin_transaction()
    send(q, ["next0", "next1"])
    q.commit_transaction()
    assign_all(c)
    records, eof = read_to_eof(c)
    emit(event="read", records=records, eof=eof, watermarks=watermarks(c))
    c.close()

elif scenario == "max_timeout":
    p = producer("t-max", **{"transaction.timeout.ms": opts["timeout_ms"]})
    try:
        p.init_transactions(10)
        emit(event="initialized")
    except KafkaException as e:
        emit_error("init_transactions", e)

elif scenario == "eos":
    output = opts["output"]
    group = "eos-group"
    plain = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5})

    def feed(tag, n):
        for i in range(n):
            plain.produce(topic, value=("%s-%d" % (tag, i)).encode(), partition=i % 2)
        plain.flush(10)

    def consume(c, n, timeout_s=15.0):
        got = []
        deadline = time.time() + timeout_s
        while len(got) < n and time.time() < deadline:
            m = c.poll(0.2)
            if m is not None and not m.error():
                got.append(m)
        return got

    def committed(c):
        return sorted([tp.partition, tp.offset] for tp in c.committed([TopicPartition(topic, p) for p in PARTITIONS], timeout=10))

    c = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "isolation.level": "read_committed", "enable.auto.commit": False, "auto.offset.reset": "earliest", "session.timeout.ms": 6000, "heartbeat.interval.ms": 200})
    c.subscribe([topic])
    p = producer("t-eos")
    p.init_transactions(10)

    def transform(tag, n, commit):
        msgs = consume(c, n)
        p.begin_transaction()
        for m in msgs:
            p.produce(output, value=(m.value().decode() + "-out").encode(), partition=m.partition(), on_delivery=delivered)
        # Delivered before the offsets and the end: an aborted round's records are in the log too.
        p.flush(10)
        p.send_offsets_to_transaction(c.position(c.assignment()), c.consumer_group_metadata(), 10)
        if commit:
            p.commit_transaction(10)
        else:
            p.abort_transaction(10)
        emit(event="round", tag=tag, consumed=len(msgs), commit=commit, committed=committed(c))

    feed("r1", 4)
    transform("r1", 4, True)
    feed("r2", 2)
    transform("r2", 2, False)

    # A commit left pending: the offsets are sent, EndTxn is not. A consumer of the group starting now
    # must wait for it (OffsetFetch require_stable -> UNSTABLE_OFFSET_COMMIT, retried), not start from the
    # offsets committed before it.
    p.begin_transaction()
    p.produce(output, value=b"r3-out", partition=0)
    p.flush(10)
    positions = [TopicPartition(topic, tp, 3) for tp in PARTITIONS]
    p.send_offsets_to_transaction(positions, c.consumer_group_metadata(), 10)
    late = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "isolation.level": "read_committed", "enable.auto.commit": False, "auto.offset.reset": "earliest"})
    late.assign([TopicPartition(topic, tp) for tp in PARTITIONS])
    early = consume(late, 1, 2.0)
    emit(event="pending", early=[m.value().decode() for m in early])
    p.commit_transaction(10)
    feed("r4", 2)
    got = consume(late, 2, 10.0)
    got += consume(late, 1, 1.0)
    emit(event="late_consumer", values=sorted(m.value().decode() for m in early + got), committed=committed(late))
    late.close()
    c.close()

else:
    raise SystemExit("unknown scenario " + scenario)
