package depot.it;

import depot.protocol.Addresses;
import depot.protocol.Headers;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A storage node that died a moment ago is still listed as up until its record expires. Here a "ghost" keeps
 * heartbeating (so it never expires) while its data port takes each connection and drops it, as a node
 * killed mid-stream would: after one deposit fails on it, the next deposits go elsewhere, and it is tried
 * again only once the suspicion has run out.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SuspectNodesIT {
  /** Suspicion lasts twice the node expiry: 6 s here, ample for the deposits made meanwhile. */
  static final long NODE_EXPIRY_MS = 3000;

  static TestCluster cluster;
  static Api api;
  static ServerSocket ghostPort;
  static final AtomicInteger ghostConnections = new AtomicInteger();
  static long heartbeats = -1;

  @BeforeAll
  static void start() throws Exception {
    cluster = TestCluster.start(2, new JsonObject().put("nodeExpiryMs", NODE_EXPIRY_MS));
    api = new Api(cluster.baseUrl());
    ghostPort = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    Thread acceptor = new Thread(() -> {
      while (!ghostPort.isClosed()) {
        try (Socket s = ghostPort.accept()) {
          ghostConnections.incrementAndGet();
          s.setSoLinger(true, 0); // a reset, like a killed process's socket
        } catch (IOException e) {
          return;
        }
      }
    }, "ghost-storage");
    acceptor.setDaemon(true);
    acceptor.start();
    JsonObject registration = new JsonObject().put("name", "ghost").put("instance", "g1")
        .put("roles", new JsonArray().add("storage")).put("host", "ghost-host")
        .put("endpoints", new JsonObject().put("storage", "http://127.0.0.1:" + ghostPort.getLocalPort()));
    TestCluster.await(cluster.anyVertx().eventBus().request(Addresses.DIRECTORY_REGISTER, registration));
    // The roomiest and emptiest node on a host of its own: placement puts it at the head of every pipeline.
    heartbeats = cluster.anyVertx().setPeriodic(0, 300, id -> cluster.anyVertx().eventBus().request(
        Addresses.DIRECTORY_HEARTBEAT, new JsonObject().put("name", "ghost").put("instance", "g1")
            .put("stats", new JsonObject().put("diskFree", 1L << 50).put("diskUsed", 0L).put("replicas", 0L))));
    cluster.awaitStorageNodes(3);
  }

  @AfterAll
  static void stop() throws Exception {
    if (heartbeats >= 0) {
      cluster.anyVertx().cancelTimer(heartbeats);
    }
    if (ghostPort != null) {
      ghostPort.close();
    }
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  @Order(1)
  void aNodeADepositFailedOnIsAvoidedUntilTheSuspicionRunsOut() throws Exception {
    String token = api.register("suspect-" + System.nanoTime()).getString("token");
    // The ghost heads the first pipeline and drops it. A small deposit's body is held by the gateway (it
    // travels in a batch), so the deposit is placed again without the ghost and the client sees no failure.
    HttpResponse<String> first = api.deposit(token, "first.txt", bytes("first"), 2, null);
    assertEquals(201, first.statusCode(), first.body());
    assertFalse(new JsonObject(first.body()).getJsonArray("nodes").contains("ghost"), first.body());
    assertEquals(1, ghostConnections.get());

    for (int i = 0; i < 10; i++) {
      HttpResponse<String> next = api.deposit(token, "next-" + i + ".txt", bytes("next " + i), 2, null);
      assertEquals(201, next.statusCode(), "deposit " + i + " goes to the two live nodes: " + next.body());
      assertEquals(2, new JsonObject(next.body()).getJsonArray("nodes").size(), next.body());
    }
    assertEquals(1, ghostConnections.get(), "no deposit after the first went to the suspect node");

    // The suspicion runs out (a live node is trusted again): the ghost, still heartbeating, is tried again.
    Thread.sleep(2 * NODE_EXPIRY_MS + 500);
    HttpResponse<String> later = api.deposit(token, "later.txt", bytes("later"), 2, null);
    assertEquals(201, later.statusCode(), later.body());
    assertEquals(2, ghostConnections.get());
  }

  /**
   * A pipeline head whose next hop is lost cannot reach a write quorum of two: it answers at once, with most
   * of the body still unsent, instead of taking all of it first.
   */
  @Test
  @Order(2)
  void aHeadThatLosesItsOnlyFollowerFailsTheDepositAtOnce() throws Exception {
    JsonObject head = TestCluster.await(cluster.anyVertx().eventBus().<JsonObject>request(Addresses.DIRECTORY_NODES,
        new JsonObject())).body().getJsonArray("nodes").stream().map(o -> (JsonObject) o)
        .filter(n -> "storage-1".equals(n.getString("id"))).findFirst().orElseThrow();
    URI url = URI.create(head.getJsonObject("endpoints").getString("storage"));
    int before = ghostConnections.get();
    long size = 256L << 20;
    try (Socket s = new Socket(url.getHost(), url.getPort())) {
      s.setSoTimeout(20_000);
      OutputStream out = s.getOutputStream();
      out.write(("PUT /internal/v1/blobs/" + UUID.randomUUID() + " HTTP/1.1\r\nHost: " + url.getHost() + "\r\n"
          + "Content-Length: " + size + "\r\n"
          + Headers.CLUSTER_SECRET + ": " + cluster.config("storage-1", new JsonArray().add("storage")).clusterSecret() + "\r\n"
          + Headers.PIPELINE + ": ghost=http://127.0.0.1:" + ghostPort.getLocalPort() + "\r\n"
          + Headers.WRITE_QUORUM + ": 2\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      out.write(new byte[1 << 20]); // 1 MiB of the 256 MiB announced, and no more
      out.flush();
      String status = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII)).readLine();
      assertEquals("HTTP/1.1 503 Service Unavailable", status, "answered before the body is complete");
    }
    assertEquals(before + 1, ghostConnections.get(), "the head did try its next hop");
  }

  /**
   * Repair leaves a suspect out too: a copy there would hold two repair slots until the node's record expired.
   * With the suspect the only node left to copy to, the copy waits for the suspicion to run out.
   */
  @Test
  @Order(3)
  void aRepairWaitsRatherThanCopyToASuspectNode() throws Exception {
    String token = api.register("repair-" + System.nanoTime()).getString("token");
    byte[] data = bytes("kept while the ghost is in doubt");
    String sha = Api.sha256(data);
    HttpResponse<String> put = api.deposit(token, "kept.txt", data, 2, null);
    for (int retries = 0; put.statusCode() == 503 && retries < 3; retries++) {
      // The ghost may have headed the pipeline and dropped it: the client tries again, as the CLI does.
      put = api.deposit(token, "kept.txt", data, 2, null);
    }
    assertEquals(201, put.statusCode(), put.body());
    assertTrue(!new JsonObject(put.body()).getJsonArray("nodes").contains("ghost"), put.body());

    AtomicInteger copiesToGhost = new AtomicInteger();
    var ghostCommands = cluster.anyVertx().eventBus().<JsonObject>consumer(Addresses.storageNode("ghost"), msg -> {
      if ("replicate".equals(msg.body().getString("action")) && sha.equals(msg.body().getString("sha256"))) {
        copiesToGhost.incrementAndGet();
      }
      msg.fail(503, "a ghost stores nothing");
    });
    TestCluster.await(ghostCommands.completion());
    try {
      TestCluster.await(cluster.anyVertx().eventBus().request(Addresses.COORDINATOR_NODE_SUSPECT,
          new JsonObject().put("node", "ghost").put("reason", "lost on the data path (test)")));
      long suspectedAt = System.currentTimeMillis();
      // Answered at once with the copies there are: the only node left to copy to is in doubt.
      HttpResponse<String> three = api.setReplicas(token, "kept.txt", 3);
      assertTrue(System.currentTimeMillis() - suspectedAt < 2 * NODE_EXPIRY_MS - 1000, "answered within the suspicion");
      assertEquals(200, three.statusCode(), three.body());
      assertEquals(2, new JsonObject(three.body()).getInteger("liveReplicas"), three.body());

      Thread.sleep(2000);
      assertEquals(0, copiesToGhost.get(), "no copy is sent to the suspect node");
      // Once the suspicion has run out the ghost is a target again (and fails, as a dead node would).
      long deadline = suspectedAt + 2 * NODE_EXPIRY_MS + 10_000;
      while (copiesToGhost.get() == 0 && System.currentTimeMillis() < deadline) {
        Thread.sleep(100);
      }
      assertTrue(copiesToGhost.get() > 0, "the copy is tried once the suspicion has run out");
      assertTrue(System.currentTimeMillis() - suspectedAt >= 2 * NODE_EXPIRY_MS - 500);
    } finally {
      TestCluster.await(ghostCommands.unregister());
    }
  }

  static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
