/* mock-cluster.c - librdkafka's mock Kafka cluster (rdkafka_mock.h) as a
 * process of its own on 127.0.0.1, for the kafka tests: real brokers
 * speaking the Kafka protocol, without a JVM.
 *
 *   mock-cluster TOPIC PARTITIONS [BROKERS]
 *
 * creates TOPIC with PARTITIONS partitions (replication 1 when one broker,
 * else 2) on BROKERS brokers (default 1), prints the bootstrap servers on
 * a line of their own, then reads commands from standard input, one a
 * line, answering each with "ok" or "error ..." on standard output:
 *   down ID     broker ID stops answering (-1: all)
 *   up ID       and comes back
 *   fence N     the next N Heartbeat requests answered FENCED_INSTANCE_ID
 *               (another member took this one's group.instance.id)
 * It exits at the end of standard input, or on SIGTERM/SIGINT. */
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int command(rd_kafka_mock_cluster_t *mc, const char *line)
{
    char verb[16];
    int id;
    if (sscanf(line, "%15s %d", verb, &id) != 2)
        return -1;
    if (strcmp(verb, "down") == 0)
        return rd_kafka_mock_broker_set_down(mc, id) == RD_KAFKA_RESP_ERR_NO_ERROR ? 0 : -1;
    if (strcmp(verb, "up") == 0)
        return rd_kafka_mock_broker_set_up(mc, id) == RD_KAFKA_RESP_ERR_NO_ERROR ? 0 : -1;
    /* 12: Heartbeat's API key (Kafka protocol). */
    if (strcmp(verb, "fence") == 0 && id > 0 && id <= 64) {
        rd_kafka_resp_err_t errs[64];
        for (int i = 0; i < id; i++)
            errs[i] = RD_KAFKA_RESP_ERR_FENCED_INSTANCE_ID;
        rd_kafka_mock_push_request_errors_array(mc, 12, (size_t)id, errs);
        return 0;
    }
    return -1;
}

int main(int argc, char **argv)
{
    char why[512], line[256];
    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: mock-cluster TOPIC PARTITIONS [BROKERS]\n");
        return 2;
    }
    int partitions = atoi(argv[2]), brokers = argc == 4 ? atoi(argv[3]) : 1;
    if (partitions < 1 || brokers < 1) {
        fprintf(stderr, "mock-cluster: PARTITIONS and BROKERS are at least 1\n");
        return 2;
    }
    /* The cluster lives in the threads of a client instance; this one
     * never sends anything itself. */
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, why, sizeof why);
    if (!rk) {
        fprintf(stderr, "mock-cluster: %s\n", why);
        return 1;
    }
    rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, brokers);
    if (!mc || rd_kafka_mock_topic_create(mc, argv[1], partitions, brokers > 1 ? 2 : 1) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        fprintf(stderr, "mock-cluster: cannot start the cluster or create %s\n", argv[1]);
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);
    printf("%s\n", rd_kafka_mock_cluster_bootstraps(mc));
    fflush(stdout);
    while (fgets(line, sizeof line, stdin)) {
        if (command(mc, line) == 0)
            printf("ok\n");
        else
            printf("error: %s", line);
        fflush(stdout);
    }
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(rk);
    return 0;
}
