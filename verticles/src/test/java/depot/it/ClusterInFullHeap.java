package depot.it;

import io.vertx.core.json.JsonObject;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * Run by {@link HeapPressureIT} in a JVM of its own with a small heap: a real cluster (main plus one storage
 * node) whose heap the test then fills with ballast, as a catalog of many files would: the coordinator refuses
 * new files and clients, the storage node new replicas (and reports it), and both take them again once the
 * ballast is gone. Prints one line per
 * finding; exits 0 when every step behaved, 1 with the reason otherwise.
 */
public final class ClusterInFullHeap {
  private static final int CHUNK = 256 * 1024;

  public static void main(String[] args) throws Exception {
    int limitPercent = Integer.parseInt(args[0]);
    try (TestCluster cluster = TestCluster.start(1, new JsonObject().put("heapLimitPercent", limitPercent))) {
      Api api = new Api(cluster.baseUrl());
      String token = api.register("full-heap").getString("token");
      expect(api.deposit(token, "before.txt", "kept".getBytes(), 1, null), 201, "a deposit with room");
      expect(api.deposit(token, "doomed.txt", "deleted".getBytes(), 1, null), 201, "a deposit with room");

      // Ballast until collections leave more than the limit in use, then deposits until they are refused.
      List<byte[]> ballast = new ArrayList<>();
      while (collect() <= limitPercent + 1) {
        for (int k = 0; k < 4; k++) {
          ballast.add(new byte[CHUNK]);
        }
      }
      long overAt = System.nanoTime();
      HttpResponse<String> refused = null;
      for (int i = 0; refused == null; i++) {
        if (System.nanoTime() - overAt > 30_000_000_000L) {
          fail("the heap is " + collect() + "% full after collections for 30 s and deposits are still accepted");
        }
        HttpResponse<String> r = api.deposit(token, "during-" + i + ".txt", ("x" + i).getBytes(), 1, null);
        if (r.statusCode() == 507) {
          refused = r;
        } else {
          expect(r, 201, "a deposit while the heap is full, before the pressure is sustained");
        }
        collect();
        Thread.sleep(100);
      }
      System.out.println("refused at " + usedPercent() + "% used: " + refused.body());
      JsonObject error = new JsonObject(refused.body());
      if (!"insufficient_memory".equals(error.getString("error")) || !error.getString("message").contains("heap")) {
        fail("the refusal does not say why: " + refused.body());
      }
      expect(api.get(token, "/api/v1/files/before.txt/meta"), 200, "reading a file's record while refused");
      HttpResponse<byte[]> kept = api.retrieve(token, "before.txt");
      if (kept.statusCode() != 200 || !"kept".equals(new String(kept.body()))) {
        fail("retrieve while refused: " + kept.statusCode());
      }
      expect(api.delete(token, "doomed.txt"), 204, "a delete while refused");
      try {
        api.register("another");
        fail("a new client was registered while the heap is full");
      } catch (IllegalStateException e) {
        System.out.println("registration refused: " + e.getMessage());
      }
      String storageUrl = awaitHeapFull(api, "storage-1", true).getJsonObject("endpoints").getString("storage");
      System.out.println("storage-1 reports heapFull");
      HttpResponse<String> replica = api.send(HttpRequest.newBuilder(
          URI.create(storageUrl + "/internal/v1/blobs/" + UUID.randomUUID())).PUT(HttpRequest.BodyPublishers.ofString("x")).build());
      expect(replica, 507, "a replica sent straight to the storage node");
      if (!replica.body().contains("refuses new replicas")) {
        fail("the storage node's refusal does not say why: " + replica.body());
      }
      System.out.println("replica refused: " + replica.body());
      String files = api.get(token, "/api/v1/files").body();
      if (files.contains("\"doomed.txt\"") || !files.contains("\"before.txt\"")) {
        fail("the listing after the refusal: " + files);
      }

      ballast.clear();
      collect();
      // The coordinator places nothing on storage-1 before its next heartbeat says it has room again.
      awaitHeapFull(api, "storage-1", false);
      System.out.println("storage-1 takes replicas again");
      // ... and the coordinator hears of it when it next reads the node list (about a second later).
      HttpResponse<String> after = api.deposit(token, "after.txt", "room again".getBytes(), 1, null);
      for (long deadline = System.currentTimeMillis() + 5_000;
           after.statusCode() == 507 && System.currentTimeMillis() < deadline; Thread.sleep(200)) {
        after = api.deposit(token, "after.txt", "room again".getBytes(), 1, null);
      }
      expect(after, 201, "a deposit once the heap has room (" + usedPercent() + "% used)");
      System.out.println("accepted again at " + usedPercent() + "% used");
    }
    System.exit(0);
  }

  /** The node's record once its heartbeat reports {@code heapFull} as given (heartbeats come each second). */
  private static JsonObject awaitHeapFull(Api api, String nodeId, boolean full) throws Exception {
    long deadline = System.currentTimeMillis() + 15_000;
    while (System.currentTimeMillis() < deadline) {
      for (Object o : new JsonObject(api.get(TestCluster.ADMIN_TOKEN, "/api/v1/nodes").body()).getJsonArray("nodes")) {
        JsonObject node = (JsonObject) o;
        if (nodeId.equals(node.getString("id")) && node.getBoolean("heapFull") == full) {
          return node;
        }
      }
      collect();
      Thread.sleep(200);
    }
    fail(nodeId + " never reported heapFull=" + full);
    return null;
  }

  /** A full collection: the heap still in use after it, as the coordinator's guard sees it. */
  private static long collect() {
    System.gc();
    return usedPercent();
  }

  private static long usedPercent() {
    Runtime rt = Runtime.getRuntime();
    return (rt.totalMemory() - rt.freeMemory()) * 100 / rt.maxMemory();
  }

  private static void expect(HttpResponse<?> r, int status, String what) {
    if (r.statusCode() != status) {
      fail(what + ": expected " + status + ", got " + r.statusCode() + " " + r.body());
    }
  }

  private static void fail(String why) {
    System.out.println("FAILED: " + why);
    System.exit(1);
  }
}
