/*
 * rdkafka-load: a small librdkafka load generator for bench/throughput.bench.ts.
 *
 *   rdkafka-load create  <bootstrap> <topic> <partitions>
 *   rdkafka-load produce <bootstrap> <topic> <count> <size> [acks] [linger.ms] [batch.size] [compression]
 *   rdkafka-load txproduce <bootstrap> <topic> <count> <size> <per_txn> [abort_every] [linger.ms] [batch.size]
 *   rdkafka-load consume <bootstrap> <topic> <count>
 *   rdkafka-load write   <path> <bytes> <chunk>      (page-cache write baseline, no librdkafka)
 *
 * Each mode prints one JSON object on stdout. produce/consume:
 *   {"mode":..., "msgs":N, "bytes":B, "seconds":S, "errors":E, "settings":{...}}
 * The clock starts once metadata has been fetched (the connection exists) and stops at the last
 * delivery report (produce) or at the count-th message (consume).
 *
 * Producer: one preallocated payload shared by every message (msgflags 0: librdkafka neither
 * copies nor frees it), no key, enqueued RDLOAD_BATCH (default 1000) at a time with
 * rd_kafka_produce_batch, partitions in turn (RDLOAD_BATCH=0: one rd_kafka_produce per message,
 * the partitioner choosing; measured up to 1.6x slower at 100 B, the client being the limit);
 * delivery reports counted in dr_msg_cb; a full local queue is waited out with rd_kafka_poll.
 * Transactional producer (txproduce): transactional.id set (so idempotent, acks=all, at most 5
 * requests in flight), init_transactions once, then begin / per_txn records / commit until count
 * records are written; every abort_every-th transaction (0: none) is flushed (its records are in
 * the log) and then aborted instead. Records go to the partitions in turn, one partition per
 * transaction. Its JSON adds transactions, aborted and committedMsgs; msgs counts every record
 * written, aborted ones included. The baseline it is compared with is `produce` with acks=-1 and
 * RDKAFKA_enable_idempotence=true RDKAFKA_max_in_flight_requests_per_connection=5.
 * Consumer: the legacy simple-consumer API (no group, no coordinator): every partition is started
 * at OFFSET_BEGINNING onto one queue, drained with rd_kafka_consume_batch_queue. Its isolation level
 * is librdkafka's default, read_committed, unless RDKAFKA_isolation_level=read_uncommitted; <count>
 * is then the number of records it can see (committed ones only, under read_committed).
 *
 * Built by the bench at run time: cc -O2 rdkafka-load.c $(pkg-config --cflags --libs rdkafka).
 * Extra librdkafka properties may be passed as RDKAFKA_<name>=<value> environment variables, with
 * '_' standing for '.', e.g. RDKAFKA_batch_num_messages=100000 (applied last, so they win).
 */
#include <librdkafka/rdkafka.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, const char *detail) {
  fprintf(stderr, "rdkafka-load: %s: %s\n", what, detail);
  exit(1);
}

/* The settings applied, echoed in the JSON so the bench can report them. */
#define MAX_SETTINGS 48
static const char *set_names[MAX_SETTINGS];
static char set_values[MAX_SETTINGS][128];
static int n_settings;

static void set(rd_kafka_conf_t *conf, const char *name, const char *value) {
  char err[512];
  if (rd_kafka_conf_set(conf, name, value, err, sizeof err) != RD_KAFKA_CONF_OK) die(name, err);
  for (int i = 0; i < n_settings; i++) {
    if (strcmp(set_names[i], name) == 0) {
      snprintf(set_values[i], sizeof set_values[i], "%s", value);
      return;
    }
  }
  if (n_settings < MAX_SETTINGS) {
    set_names[n_settings] = name;
    snprintf(set_values[n_settings], sizeof set_values[n_settings], "%s", value);
    n_settings++;
  }
}

/* RDKAFKA_foo_bar=v in the environment sets foo.bar=v. */
/* The producer settings produce and txproduce share; idempotence and requests in flight differ. */
static void set_producer(rd_kafka_conf_t *conf, const char *bootstrap, const char *acks, const char *linger,
                         const char *batch_size, const char *idempotence, const char *in_flight) {
  set(conf, "bootstrap.servers", bootstrap);
  set(conf, "acks", acks);
  set(conf, "linger.ms", linger);
  set(conf, "batch.size", batch_size);
  set(conf, "batch.num.messages", "1000000"); /* let batch.size decide, not the 10000 default */
  set(conf, "queue.buffering.max.messages", "2000000");
  set(conf, "queue.buffering.max.kbytes", "1048576");
  set(conf, "message.max.bytes", "2000000");
  set(conf, "enable.idempotence", idempotence);
  set(conf, "max.in.flight.requests.per.connection", in_flight);
  set(conf, "socket.send.buffer.bytes", "4194304");
  set(conf, "socket.nagle.disable", "true");
}

static void set_from_env(rd_kafka_conf_t *conf) {
  for (char **e = environ; *e; e++) {
    if (strncmp(*e, "RDKAFKA_", 8) != 0) continue;
    const char *eq = strchr(*e, '=');
    if (!eq) continue;
    size_t len = (size_t)(eq - (*e + 8));
    char *name = malloc(len + 1);
    if (!name) die("malloc", strerror(errno));
    for (size_t i = 0; i < len; i++) name[i] = (*e)[8 + i] == '_' ? '.' : (*e)[8 + i];
    name[len] = 0;
    set(conf, name, eq + 1); /* name is kept for the JSON echo */
  }
}

static void print_settings(void) {
  printf("\"settings\":{");
  for (int i = 0; i < n_settings; i++) printf("%s\"%s\":\"%s\"", i ? "," : "", set_names[i], set_values[i]);
  printf("}");
}

static rd_kafka_t *make_client(rd_kafka_type_t type, rd_kafka_conf_t *conf) {
  char err[512];
  rd_kafka_t *rk = rd_kafka_new(type, conf, err, sizeof err);
  if (!rk) die("rd_kafka_new", err);
  return rk;
}

/* Partition count of `topic` (also establishes the broker connection). */
static int partition_count(rd_kafka_t *rk, rd_kafka_topic_t *rkt) {
  const struct rd_kafka_metadata *md;
  for (int attempt = 0; attempt < 50; attempt++) {
    rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 0, rkt, &md, 5000);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) die("metadata", rd_kafka_err2str(e));
    int n = md->topic_cnt == 1 && md->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR ? md->topics[0].partition_cnt : 0;
    rd_kafka_metadata_destroy(md);
    if (n > 0) return n;
    struct timespec ts = {0, 100 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  die("metadata", "topic has no partitions");
  return 0;
}

/* ------------------------------------------------------------------------------------ create */

static int cmd_create(const char *bootstrap, const char *topic, int partitions) {
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  set(conf, "bootstrap.servers", bootstrap);
  rd_kafka_t *rk = make_client(RD_KAFKA_PRODUCER, conf);
  char err[512];
  rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new(topic, partitions, 1, err, sizeof err);
  if (!nt) die("NewTopic", err);
  rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
  rd_kafka_CreateTopics(rk, &nt, 1, NULL, q);
  rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 15000);
  if (!ev) die("CreateTopics", "timed out");
  const rd_kafka_CreateTopics_result_t *res = rd_kafka_event_CreateTopics_result(ev);
  if (!res) die("CreateTopics", rd_kafka_event_error_string(ev));
  size_t n;
  const rd_kafka_topic_result_t **tr = rd_kafka_CreateTopics_result_topics(res, &n);
  int rc = 0;
  for (size_t i = 0; i < n; i++) {
    rd_kafka_resp_err_t e = rd_kafka_topic_result_error(tr[i]);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR && e != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
      fprintf(stderr, "rdkafka-load: create %s: %s\n", topic, rd_kafka_err2str(e));
      rc = 1;
    }
  }
  printf("{\"mode\":\"create\",\"topic\":\"%s\",\"partitions\":%d,\"ok\":%s}\n", topic, partitions, rc ? "false" : "true");
  rd_kafka_event_destroy(ev);
  rd_kafka_NewTopic_destroy(nt);
  rd_kafka_queue_destroy(q);
  rd_kafka_destroy(rk);
  return rc;
}

/* ----------------------------------------------------------------------------------- produce */

static long long delivered, delivery_errors;
static double last_delivery;

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
  (void)rk;
  (void)opaque;
  if (m->err) {
    if (delivery_errors++ < 5) fprintf(stderr, "rdkafka-load: delivery failed: %s\n", rd_kafka_err2str(m->err));
  }
  delivered++;
}

/*
 * Enqueues n messages of the shared payload to one partition with rd_kafka_produce_batch; messages
 * refused because the local queue is full carry their error and are moved to the front and retried
 * after a poll. Returns how many times the queue was full.
 */
static long long enqueue(rd_kafka_t *rk, rd_kafka_topic_t *rkt, int partition, rd_kafka_message_t *msgs, int n, char *payload,
                         int size) {
  long long queue_full = 0;
  for (int i = 0; i < n; i++) {
    memset(&msgs[i], 0, sizeof msgs[i]);
    msgs[i].payload = payload; /* msgflags 0: no copy, no free */
    msgs[i].len = (size_t)size;
  }
  int pending = n;
  for (;;) {
    rd_kafka_produce_batch(rkt, partition, 0, msgs, pending);
    int failed = 0;
    for (int i = 0; i < pending; i++) {
      if (!msgs[i].err) continue;
      if (msgs[i].err != RD_KAFKA_RESP_ERR__QUEUE_FULL) die("produce_batch", rd_kafka_err2str(msgs[i].err));
      msgs[i].err = 0;
      msgs[failed++] = msgs[i];
    }
    if (failed == 0) return queue_full;
    pending = failed;
    queue_full++;
    rd_kafka_poll(rk, 1);
  }
}

static int cmd_produce(const char *bootstrap, const char *topic, long long count, int size, const char *acks, const char *linger,
                       const char *batch_size, const char *compression) {
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  set_producer(conf, bootstrap, acks, linger, batch_size, "false", "16");
  set(conf, "compression.codec", compression);
  set_from_env(conf);
  rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
  rd_kafka_t *rk = make_client(RD_KAFKA_PRODUCER, conf);
  rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
  int partitions = partition_count(rk, rkt);

  char *payload = malloc((size_t)size);
  if (!payload) die("malloc", strerror(errno));
  for (int i = 0; i < size; i++) payload[i] = (char)('a' + i % 26);

  /* RDLOAD_BATCH=n > 0: enqueue n messages per rd_kafka_produce_batch call, partitions in turn
   * (one call per message costs a lock round trip each); 0: rd_kafka_produce per message with the
   * partitioner choosing. */
  const char *batch_env = getenv("RDLOAD_BATCH");
  int batch = batch_env ? atoi(batch_env) : 1000;
  rd_kafka_message_t *msgs = batch > 0 ? calloc((size_t)batch, sizeof *msgs) : NULL;
  if (batch > 0 && !msgs) die("calloc", strerror(errno));

  long long queue_full = 0;
  double t0 = now_s();
  if (batch > 0) {
    int partition = 0;
    for (long long sent = 0; sent < count;) {
      int n = count - sent < batch ? (int)(count - sent) : batch;
      queue_full += enqueue(rk, rkt, partition, msgs, n, payload, size);
      sent += n;
      partition = (partition + 1) % partitions;
      rd_kafka_poll(rk, 0);
    }
  } else {
    for (long long i = 0; i < count; i++) {
      /* msgflags 0: librdkafka keeps a pointer to the shared payload, no copy, no free. */
      while (rd_kafka_produce(rkt, RD_KAFKA_PARTITION_UA, 0, payload, (size_t)size, NULL, 0, NULL) == -1) {
        rd_kafka_resp_err_t e = rd_kafka_last_error();
        if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) die("produce", rd_kafka_err2str(e));
        queue_full++;
        rd_kafka_poll(rk, 1);
      }
      if ((i & 1023) == 0) rd_kafka_poll(rk, 0);
    }
  }
  while (delivered < count) rd_kafka_poll(rk, 50);
  last_delivery = now_s();
  double seconds = last_delivery - t0;
  printf("{\"mode\":\"produce\",\"produceBatch\":%d,\"partitions\":%d,\"msgs\":%lld,\"bytes\":%lld,\"seconds\":%.6f,\"errors\":%lld,\"queueFull\":%lld,",
         batch, partitions, delivered - delivery_errors, (delivered - delivery_errors) * (long long)size, seconds, delivery_errors, queue_full);
  print_settings();
  printf("}\n");
  rd_kafka_topic_destroy(rkt);
  rd_kafka_destroy(rk);
  free(payload);
  free(msgs);
  return delivery_errors ? 1 : 0;
}

/* --------------------------------------------------------------------------------- txproduce */

/* Dies on a transactional API error. Every error here ends the run: the bench measures a broker
 * that is expected to get transactions right, so a retriable or abortable error is a failure too. */
static void check_txn(const char *what, rd_kafka_error_t *error) {
  if (!error) return;
  char detail[600];
  snprintf(detail, sizeof detail, "%s (%s%s%s)", rd_kafka_error_string(error), rd_kafka_error_name(error),
           rd_kafka_error_is_fatal(error) ? ", fatal" : "", rd_kafka_error_txn_requires_abort(error) ? ", requires abort" : "");
  rd_kafka_error_destroy(error);
  die(what, detail);
}

static int cmd_txproduce(const char *bootstrap, const char *topic, long long count, int size, int per_txn, int abort_every, const char *linger,
                         const char *batch_size) {
  if (per_txn <= 0) die("txproduce", "per_txn must be > 0");
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  /* The same producer settings as `produce`, except what transactions require. */
  set_producer(conf, bootstrap, "all", linger, batch_size, "true", "5");
  /* A fresh id per process (pid + time): a rerun must not be fenced by, or wait out, the last one. */
  char txn_id[96];
  snprintf(txn_id, sizeof txn_id, "rdkafka-load-%d-%lld", (int)getpid(), (long long)(now_s() * 1000));
  set(conf, "transactional.id", txn_id);
  set_from_env(conf);
  rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
  rd_kafka_t *rk = make_client(RD_KAFKA_PRODUCER, conf);
  rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
  int partitions = partition_count(rk, rkt);

  char *payload = malloc((size_t)size);
  if (!payload) die("malloc", strerror(errno));
  for (int i = 0; i < size; i++) payload[i] = (char)('a' + i % 26);
  rd_kafka_message_t *msgs = calloc((size_t)per_txn, sizeof *msgs);
  if (!msgs) die("calloc", strerror(errno));

  /* The clock starts after init_transactions: like `produce`, after the connection exists; finding
   * the coordinator and getting a producer id is a once-per-producer cost. */
  double ti = now_s();
  check_txn("init_transactions", rd_kafka_init_transactions(rk, 30000));
  double init_seconds = now_s() - ti;
  long long queue_full = 0, transactions = 0, aborted = 0, aborted_msgs = 0;
  double t0 = now_s();
  int partition = 0;
  for (long long sent = 0; sent < count;) {
    int n = count - sent < per_txn ? (int)(count - sent) : per_txn;
    check_txn("begin_transaction", rd_kafka_begin_transaction(rk));
    queue_full += enqueue(rk, rkt, partition, msgs, n, payload, size);
    sent += n;
    transactions++;
    if (abort_every > 0 && transactions % abort_every == 0) {
      /* Flushed first, so the aborted records are in the log (a consumer has something to skip)
       * rather than purged from the client's queue before they were sent. */
      rd_kafka_resp_err_t fe = rd_kafka_flush(rk, 30000);
      if (fe) die("flush", rd_kafka_err2str(fe));
      check_txn("abort_transaction", rd_kafka_abort_transaction(rk, 30000));
      aborted++;
      aborted_msgs += n;
    } else {
      check_txn("commit_transaction", rd_kafka_commit_transaction(rk, 30000));
    }
    partition = (partition + 1) % partitions;
    rd_kafka_poll(rk, 0);
  }
  while (delivered < count) rd_kafka_poll(rk, 50);
  double seconds = now_s() - t0;
  printf("{\"mode\":\"txproduce\",\"partitions\":%d,\"perTxn\":%d,\"transactions\":%lld,\"aborted\":%lld,\"msgs\":%lld,\"committedMsgs\":%lld,\"bytes\":%lld,"
         "\"seconds\":%.6f,\"initSeconds\":%.6f,\"errors\":%lld,\"queueFull\":%lld,",
         partitions, per_txn, transactions, aborted, delivered - delivery_errors, delivered - delivery_errors - aborted_msgs, (delivered - delivery_errors) * (long long)size,
         seconds, init_seconds, delivery_errors, queue_full);
  print_settings();
  printf("}\n");
  rd_kafka_topic_destroy(rkt);
  rd_kafka_destroy(rk);
  free(payload);
  free(msgs);
  return delivery_errors ? 1 : 0;
}

/* ----------------------------------------------------------------------------------- consume */

static int cmd_consume(const char *bootstrap, const char *topic, long long count) {
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  set(conf, "bootstrap.servers", bootstrap);
  /* 1 MiB per partition per fetch (librdkafka's default): larger fetches measured slower here,
   * 16 MiB at less than half the speed, as every response lands in a fresh receive buffer that the
   * client's kernel has to fault in. */
  set(conf, "max.partition.fetch.bytes", "1048576");
  set(conf, "fetch.max.bytes", "52428800");
  set(conf, "queued.max.messages.kbytes", "262144");
  set(conf, "queued.min.messages", "1000000");
  set(conf, "fetch.wait.max.ms", "100");
  set(conf, "check.crcs", "false");
  set_from_env(conf);
  rd_kafka_t *rk = make_client(RD_KAFKA_CONSUMER, conf);
  rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
  int partitions = partition_count(rk, rkt);
  rd_kafka_queue_t *q = rd_kafka_queue_new(rk);

  double t0 = now_s();
  for (int p = 0; p < partitions; p++) {
    if (rd_kafka_consume_start_queue(rkt, p, RD_KAFKA_OFFSET_BEGINNING, q) == -1) die("consume_start", rd_kafka_err2str(rd_kafka_last_error()));
  }
  enum { BATCH = 10000 };
  rd_kafka_message_t **msgs = malloc(sizeof(*msgs) * BATCH);
  if (!msgs) die("malloc", strerror(errno));
  long long got = 0, bytes = 0, errors = 0;
  double last_progress = t0;
  while (got < count) {
    /* Asks for no more than are still wanted: the call waits out its timeout until it has as many
     * as asked for, so the last call would otherwise add up to a second to the time. */
    size_t want = count - got < BATCH ? (size_t)(count - got) : BATCH;
    ssize_t n = rd_kafka_consume_batch_queue(q, 1000, msgs, want);
    if (n < 0) die("consume_batch", rd_kafka_err2str(rd_kafka_last_error()));
    for (ssize_t i = 0; i < n; i++) {
      rd_kafka_message_t *m = msgs[i];
      if (m->err) {
        if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF && errors++ < 5) fprintf(stderr, "rdkafka-load: consume error: %s\n", rd_kafka_message_errstr(m));
      } else {
        got++;
        bytes += (long long)m->len;
      }
      rd_kafka_message_destroy(m);
    }
    double t = now_s();
    if (n > 0) last_progress = t;
    else if (t - last_progress > 30) die("consume", "no messages for 30 s");
  }
  double seconds = now_s() - t0;
  for (int p = 0; p < partitions; p++) rd_kafka_consume_stop(rkt, p);
  printf("{\"mode\":\"consume\",\"partitions\":%d,\"msgs\":%lld,\"bytes\":%lld,\"seconds\":%.6f,\"errors\":%lld,", partitions, got, bytes, seconds, errors);
  print_settings();
  printf("}\n");
  free(msgs);
  rd_kafka_queue_destroy(q);
  rd_kafka_topic_destroy(rkt);
  rd_kafka_destroy(rk);
  return errors ? 1 : 0;
}

/* ------------------------------------------------------------------------------------- write */

/* The page-cache baseline: write(2) `bytes` into a new file in `chunk`-sized calls, as the broker's
 * append does, then unlink it. No fsync: produce with acks=1 does not fsync either. */
static int cmd_write(const char *path, long long bytes, int chunk) {
  char *buf = malloc((size_t)chunk);
  if (!buf) die("malloc", strerror(errno));
  for (int i = 0; i < chunk; i++) buf[i] = (char)('a' + i % 26);
  FILE *f = fopen(path, "wx");
  if (!f) die(path, strerror(errno));
  int fd = fileno(f);
  double t0 = now_s();
  long long done = 0;
  while (done < bytes) {
    size_t n = bytes - done < chunk ? (size_t)(bytes - done) : (size_t)chunk;
    ssize_t w = write(fd, buf, n);
    if (w < 0) die("write", strerror(errno));
    done += w;
  }
  double seconds = now_s() - t0;
  fclose(f);
  unlink(path);
  printf("{\"mode\":\"write\",\"bytes\":%lld,\"chunk\":%d,\"seconds\":%.6f}\n", done, chunk, seconds);
  free(buf);
  return 0;
}

/* -------------------------------------------------------------------------------------- main */

static const char *arg(int argc, char **argv, int i, const char *dflt) {
  return i < argc ? argv[i] : dflt;
}

int main(int argc, char **argv) {
  const char *usage =
      "usage: rdkafka-load create  <bootstrap> <topic> <partitions>\n"
      "       rdkafka-load produce <bootstrap> <topic> <count> <size> [acks=1] [linger.ms=5] [batch.size=1000000] [compression=none]\n"
      "       rdkafka-load txproduce <bootstrap> <topic> <count> <size> <per_txn> [abort_every=0] [linger.ms=5] [batch.size=1000000]\n"
      "       rdkafka-load consume <bootstrap> <topic> <count>\n"
      "       rdkafka-load write   <path> <bytes> <chunk>\n";
  if (argc < 4) {
    fputs(usage, stderr);
    return 2;
  }
  const char *mode = argv[1];
  if (strcmp(mode, "create") == 0 && argc >= 5) return cmd_create(argv[2], argv[3], atoi(argv[4]));
  if (strcmp(mode, "produce") == 0 && argc >= 6) {
    return cmd_produce(argv[2], argv[3], atoll(argv[4]), atoi(argv[5]), arg(argc, argv, 6, "1"), arg(argc, argv, 7, "5"),
                       arg(argc, argv, 8, "1000000"), arg(argc, argv, 9, "none"));
  }
  if (strcmp(mode, "txproduce") == 0 && argc >= 7) {
    return cmd_txproduce(argv[2], argv[3], atoll(argv[4]), atoi(argv[5]), atoi(argv[6]), atoi(arg(argc, argv, 7, "0")), arg(argc, argv, 8, "5"),
                         arg(argc, argv, 9, "1000000"));
  }
  if (strcmp(mode, "consume") == 0 && argc >= 5) return cmd_consume(argv[2], argv[3], atoll(argv[4]));
  if (strcmp(mode, "write") == 0 && argc >= 5) return cmd_write(argv[2], atoll(argv[3]), atoi(argv[4]));
  fputs(usage, stderr);
  return 2;
}
