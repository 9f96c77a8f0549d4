package depot.it;

import depot.protocol.Addresses;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

import static depot.it.DepositRetrieveIT.random;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A storage node stops; the coordinator restores two replicas of every file it held, within the repair
 * limits: never more than {@code repairStreamsPerNode} copies on one node (as source or target), never more
 * than {@code repairStreamsTotal} in the cluster, each source sending at most {@code repairBytesPerSecond}.
 * The limits are watched both in the coordinator's stats and on the storage nodes themselves, which count
 * the repair streams they actually send and receive. Client reads during the repair are not throttled.
 */
class RepairLimitsIT {
  private static final int MiB = 1024 * 1024;
  private static final int PER_NODE = 2;
  private static final int TOTAL = 3;
  private static final long RATE = MiB; // bytes per second and source node
  private static TestCluster cluster;
  private static Api api;

  @BeforeAll
  static void up() throws Exception {
    cluster = TestCluster.start(5, new JsonObject().put("repairStreamsPerNode", PER_NODE)
        .put("repairStreamsTotal", TOTAL).put("repairBytesPerSecond", (int) RATE));
    api = new Api(cluster.baseUrl());
  }

  @AfterAll
  static void down() throws Exception {
    if (cluster != null) {
      cluster.close();
    }
  }

  private static JsonObject request(String address) throws Exception {
    return TestCluster.await(cluster.anyVertx().eventBus().<JsonObject>request(address,
        new JsonObject().put("action", "stats"), new DeliveryOptions().setSendTimeout(5000))).body();
  }

  /** The coordinator's stats, waiting out a change of leader. */
  private static JsonObject coordinatorStats() throws Exception {
    try {
      return request(Addresses.COORDINATOR_STATS);
    } catch (Exception e) {
      return cluster.awaitCoordinatorLeader();
    }
  }

  /** What the poller saw: the most repair streams at once, in the cluster and on any one node. */
  private static final class Watch {
    volatile int maxRunning;
    volatile int maxOnOneNode;
    volatile int maxOutOnNodes;
    volatile int maxInOutOnOneNode;
    volatile long firstRepairSeenAt;
    final List<String> violations = new ArrayList<>();
  }

  @Test
  void aLostNodeIsRepairedWithinTheStreamLimitsAndTheBandwidth() throws Exception {
    String token = api.register("repairs").getString("token");
    Map<String, byte[]> files = new LinkedHashMap<>();
    for (int i = 0; i < 8; i++) {
      byte[] data = random(2 * MiB, 100 + i);
      files.put("f" + i + ".bin", data);
      assertEquals(201, api.deposit(token, "f" + i + ".bin", data, 2, null).statusCode());
    }
    byte[] big = random(8 * MiB, 99);
    assertEquals(201, api.deposit(token, "client.bin", big, 2, null).statusCode());
    // The victim is the node holding the most: placement follows free disk space, which all nodes share here.
    Map<String, Long> held = new HashMap<>();
    Map<String, Long> sizes = new LinkedHashMap<>();
    files.forEach((name, data) -> sizes.put(name, (long) data.length));
    sizes.put("client.bin", (long) big.length);
    for (String name : sizes.keySet()) {
      JsonObject meta = new JsonObject(api.get(token, "/api/v1/files/" + name + "/meta").body());
      meta.getJsonArray("nodes").forEach(n -> held.merge((String) n, sizes.get(name), Long::sum));
    }
    String victim = held.entrySet().stream().max(Map.Entry.comparingByValue()).orElseThrow().getKey();
    long victimBytes = held.get(victim);
    List<String> survivors = new ArrayList<>(cluster.storageNodeIds());
    survivors.remove(victim);
    Map<String, Long> bytesOutBefore = new HashMap<>();
    for (String n : survivors) {
      bytesOutBefore.put(n, request(Addresses.storageNode(n)).getLong("repairBytesOut"));
    }

    Watch watch = new Watch();
    AtomicBoolean watching = new AtomicBoolean(true);
    Thread poller = new Thread(() -> {
      while (watching.get()) {
        try {
          JsonObject stats = request(Addresses.COORDINATOR_STATS);
          int running = stats.getInteger("repairsRunning");
          if (running > 0 && watch.firstRepairSeenAt == 0) {
            watch.firstRepairSeenAt = System.currentTimeMillis();
          }
          watch.maxRunning = Math.max(watch.maxRunning, running);
          for (String n : stats.getJsonObject("repairsByNode").fieldNames()) {
            watch.maxOnOneNode = Math.max(watch.maxOnOneNode, stats.getJsonObject("repairsByNode").getInteger(n));
          }
          int out = 0;
          for (String n : survivors) {
            JsonObject s = request(Addresses.storageNode(n));
            out += s.getInteger("repairsOut");
            int inOut = s.getInteger("repairsOut") + s.getInteger("repairsIn");
            watch.maxInOutOnOneNode = Math.max(watch.maxInOutOnOneNode, inOut);
            if (inOut > 0 && watch.firstRepairSeenAt == 0) {
              watch.firstRepairSeenAt = System.currentTimeMillis();
            }
          }
          watch.maxOutOnNodes = Math.max(watch.maxOutOnNodes, out);
        } catch (Exception e) {
          synchronized (watch.violations) {
            watch.violations.add(e.toString());
          }
        }
        try {
          Thread.sleep(10);
        } catch (InterruptedException e) {
          return;
        }
      }
    }, "repair-watch");
    poller.start();

    cluster.stopNode(victim);
    // A client reads while the repair runs: it must get the bytes at full speed, not at the repair rate.
    long clientReadMs = -1;
    long deadline = System.currentTimeMillis() + 120_000;
    JsonObject stats;
    long repairedAt = 0;
    while (true) {
      stats = coordinatorStats();
      if (clientReadMs < 0 && watch.firstRepairSeenAt > 0) {
        long t0 = System.nanoTime();
        HttpResponse<byte[]> got = api.retrieve(token, "client.bin");
        clientReadMs = (System.nanoTime() - t0) / 1_000_000;
        assertEquals(200, got.statusCode());
        assertArrayEquals(big, got.body());
      }
      if (watch.firstRepairSeenAt > 0 && stats.getLong("underReplicated") == 0 && stats.getInteger("repairsRunning") == 0) {
        repairedAt = System.currentTimeMillis();
        break;
      }
      assertTrue(System.currentTimeMillis() < deadline, "not repaired in time: " + stats.encode());
      Thread.sleep(50);
    }
    watching.set(false);
    poller.join();

    long repairedBytes = 0;
    long maxNodeBytes = 0;
    int sources = 0;
    for (String n : survivors) {
      long sent = request(Addresses.storageNode(n)).getLong("repairBytesOut") - bytesOutBefore.get(n);
      repairedBytes += sent;
      maxNodeBytes = Math.max(maxNodeBytes, sent);
      sources += sent > 0 ? 1 : 0;
    }
    long windowMs = repairedAt - watch.firstRepairSeenAt;
    String seen = victim + " held " + victimBytes + " bytes; " + sources + " sources repaired " + repairedBytes + " bytes in " + windowMs + " ms; at most " + watch.maxRunning
        + " copies (coordinator), " + watch.maxOutOnNodes + " sent at once (storage nodes), " + watch.maxOnOneNode
        + " on one node (coordinator), " + watch.maxInOutOnOneNode + " on one node (storage); client read of 8 MiB "
        + clientReadMs + " ms; poll errors " + watch.violations;
    System.out.println("RepairLimitsIT: " + seen);

    assertEquals(0, stats.getLong("lost"), stats.encode());
    assertTrue(repairedBytes >= victimBytes, "everything the lost node held was copied again: " + seen);
    // The limits: in the coordinator's bookkeeping and in what the storage nodes really did.
    assertTrue(watch.maxRunning <= TOTAL, seen);
    assertTrue(watch.maxOutOnNodes <= TOTAL, seen);
    assertTrue(watch.maxOnOneNode <= PER_NODE, seen);
    assertTrue(watch.maxInOutOnOneNode <= PER_NODE, seen);
    assertTrue(watch.maxRunning >= 2, "copies ran side by side: " + seen);
    // The bandwidth: no source sent more than its burst plus the rate over the repair (generous bounds),
    // so the repair took at least as long as the sources' combined rate allows.
    long burst = Math.max(2L * MiB, RATE / 10);
    assertTrue(maxNodeBytes <= burst + RATE * (windowMs + 1000) / 1000 + 2L * MiB, seen);
    long fastest = (repairedBytes - sources * burst) * 1000 / (sources * RATE);
    assertTrue(windowMs >= fastest * 6 / 10, "faster than " + sources + " sources at "
        + RATE + " B/s allow (" + fastest + " ms): " + seen);
    assertTrue(clientReadMs >= 0 && clientReadMs < 4000, "client read not throttled: " + seen);

    for (Map.Entry<String, byte[]> f : files.entrySet()) {
      JsonObject meta = new JsonObject(api.get(token, "/api/v1/files/" + f.getKey() + "/meta").body());
      assertEquals(2, meta.getInteger("liveReplicas"), meta.encode());
      assertArrayEquals(f.getValue(), api.retrieve(token, f.getKey()).body());
    }
  }
}
