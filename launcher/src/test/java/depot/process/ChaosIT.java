package depot.process;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static depot.process.ProcessCluster.millisSince;
import static depot.process.ProcessCluster.sha256;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The chaos run of issue #3: several clients deposit and retrieve continuously while storage nodes and the
 * leading coordinator are killed with SIGKILL and started again at random, for a bounded time. Then every
 * node runs again, repair finishes, and every acknowledged deposit is retrieved and its SHA-256 compared.
 *
 * <p>Topology, every node its own JVM from {@code depot.jar node -cluster}: {@code front} (directory and
 * gateway: the clients' entry point, never killed), {@code coordinator-1} and {@code coordinator-2} (they
 * elect a leader by rank) and {@code storage-1..4}. At most one node is down at a time, so every acknowledged
 * deposit (on at least two storage nodes, its catalog entry on two disks) stays readable throughout.
 *
 * <p>System properties: {@code chaos.seconds} (75), {@code chaos.seed} (20261201), {@code chaos.clients} (4),
 * {@code chaos.maxOutageMs} (30000: the bound on the longest write unavailability), {@code chaos.healSeconds}
 * (90). Node logs: {@code target/chaos-logs/}; the figures: {@code target/chaos-report.json}.
 */
@Timeout(value = 20, unit = TimeUnit.MINUTES)
class ChaosIT {
  static final long SECONDS = Long.getLong("chaos.seconds", 75);
  static final long SEED = Long.getLong("chaos.seed", 20261201L);
  static final int CLIENTS = Integer.getInteger("chaos.clients", 4);
  static final long MAX_OUTAGE_MS = Long.getLong("chaos.maxOutageMs", 30_000);
  static final long HEAL_SECONDS = Long.getLong("chaos.healSeconds", 90);
  static final long VERIFY_SECONDS = 180;
  static final int CLUSTER_PORT = 6101;
  /** Generous: on a busy 2-core machine seven JVMs take 40-90 s to start, a restart 10-25 s. */
  static final long START_TIMEOUT_MS = 180_000;
  static final String FRONT = "front";
  static final List<String> COORDINATORS = List.of("coordinator-1", "coordinator-2");
  static final List<String> STORAGE = List.of("storage-1", "storage-2", "storage-3", "storage-4");
  static final String REGISTERED = "registered with the directory";

  static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(3)).build();

  static ProcessCluster cluster;
  static String gateway;
  static Path moduleDir;

  /** A deposit answered 201: it must come back byte-identical. */
  record Acked(String token, String name, int size, String sha256, int replicas, long atMs) {}

  /** One injected failure, times in ms since the clients started. */
  record Fault(String kind, String node, long killedAtMs, long restartedAtMs, long backAtMs) {}

  final List<Acked> acked = Collections.synchronizedList(new ArrayList<>());
  final List<Fault> faults = new CopyOnWriteArrayList<>();
  final Map<String, AtomicLong> failures = new ConcurrentHashMap<>();
  /** The first message seen for each cause of failure. */
  final Map<String, String> failureSamples = new ConcurrentHashMap<>();
  final List<String> corruptions = new CopyOnWriteArrayList<>();
  final List<String> missingDuringRun = new CopyOnWriteArrayList<>();
  final AtomicLong depositsOk = new AtomicLong();
  final AtomicLong depositsFailed = new AtomicLong();
  final AtomicLong readsOk = new AtomicLong();
  final AtomicLong readsFailed = new AtomicLong();
  long t0;
  long lastDepositOk;
  long longestOutageMs;
  long outageFromMs;
  long outageToMs;
  volatile boolean stopping;

  @BeforeAll
  static void startCluster() throws Exception {
    moduleDir = ProcessCluster.moduleDir();
    cluster = new ProcessCluster(moduleDir, moduleDir.resolve("target").resolve("chaos-logs"), "depot-chaos", CLUSTER_PORT,
        // Seven JVMs share two cores: C1 only and the serial collector cut their start-up and idle CPU.
        List.of("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"));
    int httpPort = ProcessCluster.freePort();
    gateway = "http://127.0.0.1:" + httpPort;
    System.out.println("[chaos] cluster " + cluster.clusterName() + ", gateway " + gateway + ", logs target/chaos-logs");
    long started = System.nanoTime();
    try {
      cluster.start(FRONT, "conf/control.json", Map.of("DEPOT_ROLES", "directory,gateway",
          "DEPOT_HTTP_PORT", String.valueOf(httpPort)));
      cluster.awaitStarted(FRONT, REGISTERED, START_TIMEOUT_MS);
      // Two waves rather than six members joining Hazelcast at once: fewer joins racing each other.
      for (String id : COORDINATORS) {
        cluster.start(id, "conf/coordinator.json", Map.of());
      }
      for (String id : COORDINATORS) {
        cluster.awaitStarted(id, REGISTERED, START_TIMEOUT_MS);
      }
      for (String id : STORAGE) {
        cluster.start(id, "conf/storage.json", Map.of("DEPOT_STORAGE_PORT", "0"));
      }
      for (String id : STORAGE) {
        cluster.awaitStarted(id, REGISTERED, START_TIMEOUT_MS);
      }
      awaitUntil("a leading coordinator and 4 live storage nodes", START_TIMEOUT_MS,
          () -> leader() != null && liveStorage() == STORAGE.size());
    } catch (Throwable t) {
      System.out.println(cluster.dumpLogs(40));
      throw t;
    }
    System.out.println("[chaos] 7 nodes up in " + millisSince(started) + " ms; leader " + leader());
  }

  @AfterEach
  void stopClients() {
    stopping = true;
  }

  @AfterAll
  static void stopCluster() throws IOException {
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  void everyAcknowledgedDepositSurvivesKilledNodes() throws Exception {
    List<String> tokens = new ArrayList<>();
    for (int i = 0; i < CLIENTS; i++) {
      tokens.add(registerClient("chaos-" + i));
    }
    System.out.printf("[chaos] seed %d, %d s of chaos, %d clients%n", SEED, SECONDS, CLIENTS);

    t0 = System.nanoTime();
    lastDepositOk = t0;
    List<Thread> clients = new ArrayList<>();
    for (int i = 0; i < CLIENTS; i++) {
      int k = i;
      Thread client = new Thread(() -> clientLoop(tokens.get(k), k), "chaos-client-" + i);
      client.setDaemon(true); // never outlives a test that timed out
      client.start();
      clients.add(client);
    }
    Throwable[] chaosError = new Throwable[1];
    Thread chaos = new Thread(() -> {
      try {
        chaosLoop();
      } catch (Throwable t) {
        chaosError[0] = t;
      }
    }, "chaos-monkey");
    chaos.setDaemon(true);
    chaos.start();
    chaos.join();
    stopping = true;
    for (Thread c : clients) {
      c.join();
    }
    long chaosMs = millisSince(t0);
    noteOutage(System.nanoTime());
    if (chaosError[0] != null) {
      System.out.println(cluster.dumpLogs(40));
      throw new AssertionError("the chaos thread failed", chaosError[0]);
    }

    // Heal: every node runs (the chaos loop restarts what it kills), then repair brings every file back to its count.
    long healStart = System.nanoTime();
    JsonObject stats = awaitRepair();
    long healMs = millisSince(healStart);

    // Every acknowledged deposit, byte for byte (by SHA-256).
    List<Acked> all;
    synchronized (acked) {
      all = List.copyOf(acked);
    }
    List<String> lost = new ArrayList<>();
    int corruptAtEnd = 0;
    // Bounded: a cluster that cannot serve is a failure, not a test that runs for hours.
    long verifyUntil = System.currentTimeMillis() + VERIFY_SECONDS * 1000;
    for (Acked a : all) {
      String outcome = System.currentTimeMillis() < verifyUntil ? verify(a)
          : "not read back: the " + VERIFY_SECONDS + " s for reading every file back were over";
      if (outcome.startsWith("corrupt")) {
        corruptAtEnd++;
        corruptions.add(a.name() + " at the end: " + outcome);
      } else if (!outcome.equals("ok")) {
        lost.add(a.name() + " (" + a.size() + " bytes, R=" + a.replicas() + ", acknowledged at +" + a.atMs() + " ms): "
            + outcome);
      }
    }

    long ops = depositsOk.get() + depositsFailed.get() + readsOk.get() + readsFailed.get();
    long storageKills = faults.stream().filter(f -> f.kind().equals("storage")).count();
    String summary = String.join("\n",
        "========== chaos summary ==========",
        String.format("seed %d, %d s of chaos (%d ms), %d clients; nodes: front (directory+gateway), 2 coordinators, 4 storage",
            SEED, SECONDS, chaosMs, CLIENTS),
        String.format("operations done: %d (deposits acknowledged %d, deposits failed %d, reads verified %d, reads failed %d)",
            ops, depositsOk.get(), depositsFailed.get(), readsOk.get(), readsFailed.get()),
        String.format("failures injected: %d (storage node SIGKILLs %d, leading coordinator SIGKILLs %d)",
            faults.size(), storageKills, faults.size() - storageKills),
        String.format("acknowledged files lost: %d (of %d checked after healing)", lost.size(), all.size()),
        String.format("corrupted reads: %d", corruptions.size()),
        String.format("longest write unavailability: %d ms (from +%d ms to +%d ms)", longestOutageMs, outageFromMs, outageToMs),
        String.format("acknowledged files missing during the run (404): %d", missingDuringRun.size()),
        String.format("healed (repair done) in %d ms: %s", healMs, stats == null ? "never" : stats.encode()),
        "failed operations by cause: " + new TreeMap<>(failures),
        "first of each: " + new TreeMap<>(failureSamples),
        "faults: " + faults,
        "===================================");
    System.out.println(summary);
    writeReport(chaosMs, ops, all.size(), lost, healMs, stats);

    assertTrue(faults.size() > 0, "no failure was injected");
    assertTrue(depositsOk.get() > 0, "no deposit was acknowledged");
    assertEquals(List.of(), lost, "acknowledged deposits lost");
    assertEquals(List.of(), corruptions, "corrupted reads");
    assertEquals(0, corruptAtEnd);
    assertEquals(List.of(), missingDuringRun, "acknowledged deposits answered 404 during the run");
    // A failover may refuse a request with a clear error (503, 409, 507), never with an internal error.
    assertEquals(List.of(), failures.keySet().stream().filter(c -> c.contains(" 500 ")).toList(),
        "internal errors: " + failureSamples);
    assertTrue(stats != null, "repair did not finish within " + HEAL_SECONDS + " s after the chaos");
    assertTrue(longestOutageMs < MAX_OUTAGE_MS, "longest write unavailability " + longestOutageMs + " ms >= "
        + MAX_OUTAGE_MS + " ms");
  }

  // ---------------------------------------------------------------------------------------------------------
  // clients

  void clientLoop(String token, int k) {
    Random random = new Random(SEED * 31 + k);
    int n = 0;
    while (!stopping) {
      Acked pick = null;
      synchronized (acked) {
        if (!acked.isEmpty() && random.nextInt(100) < 45) {
          pick = acked.get(random.nextInt(acked.size()));
        }
      }
      try {
        if (pick == null) {
          deposit(token, "c" + k + "-" + (n++) + ".bin", random);
        } else {
          read(pick);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  /** Mostly small files (packed on the storage nodes), some medium, a few of several MiB. */
  static int size(Random random) {
    int roll = random.nextInt(100);
    if (roll < 60) {
      return 1 + random.nextInt(64 * 1024);
    } else if (roll < 92) {
      return 64 * 1024 + random.nextInt(448 * 1024);
    }
    return 2 * 1024 * 1024 + random.nextInt(2 * 1024 * 1024);
  }

  static byte[] content(long seed, int size) {
    byte[] data = new byte[size];
    new Random(seed).nextBytes(data);
    return data;
  }

  void deposit(String token, String name, Random random) throws InterruptedException {
    int size = size(random);
    int replicas = 2 + random.nextInt(2);
    byte[] data = content(random.nextLong(), size);
    String sha = sha256(data);
    HttpRequest req = HttpRequest.newBuilder(URI.create(gateway + "/api/v1/files/" + name + "?replicas=" + replicas))
        .timeout(Duration.ofSeconds(60)).header("Authorization", "Bearer " + token).header("X-Depot-Sha256", sha)
        .PUT(HttpRequest.BodyPublishers.ofByteArray(data)).build();
    try {
      HttpResponse<String> resp = HTTP.send(req, HttpResponse.BodyHandlers.ofString());
      if (resp.statusCode() == 201) {
        String stored = new JsonObject(resp.body()).getString("sha256");
        if (!sha.equals(stored)) {
          corruptions.add("deposit of " + name + " answered sha256 " + stored + ", sent " + sha);
        }
        acked.add(new Acked(token, name, size, sha, replicas, millisSince(t0)));
        depositsOk.incrementAndGet();
        noteOutage(System.nanoTime());
        return;
      }
      failed(depositsFailed, "deposit " + resp.statusCode() + " " + errorCode(resp.body()), name + ": " + resp.body());
    } catch (IOException e) {
      failed(depositsFailed, "deposit " + e.getClass().getSimpleName(), name + ": " + e.getMessage());
    }
    Thread.sleep(200);
  }

  void read(Acked a) throws InterruptedException {
    try {
      HttpResponse<byte[]> resp = get(a);
      if (resp.statusCode() == 200) {
        String got = sha256(resp.body());
        if (got.equals(a.sha256())) {
          readsOk.incrementAndGet();
        } else {
          corruptions.add(a.name() + " read " + resp.body().length + " bytes with sha256 " + got + ", expected "
              + a.size() + " bytes " + a.sha256());
        }
        return;
      }
      if (resp.statusCode() == 404) {
        missingDuringRun.add(a.name() + " at +" + millisSince(t0) + " ms: " + new String(resp.body(), StandardCharsets.UTF_8));
      }
      String body = new String(resp.body(), StandardCharsets.UTF_8);
      failed(readsFailed, "read " + resp.statusCode() + " " + errorCode(body), a.name() + ": " + body);
    } catch (IOException e) {
      failed(readsFailed, "read " + e.getClass().getSimpleName(), a.name() + ": " + e.getMessage());
    }
    Thread.sleep(200);
  }

  static HttpResponse<byte[]> get(Acked a) throws IOException, InterruptedException {
    return HTTP.send(HttpRequest.newBuilder(URI.create(gateway + "/api/v1/files/" + a.name()))
        .timeout(Duration.ofSeconds(60)).header("Authorization", "Bearer " + a.token()).GET().build(),
        HttpResponse.BodyHandlers.ofByteArray());
  }

  void failed(AtomicLong counter, String cause, String sample) {
    counter.incrementAndGet();
    failures.computeIfAbsent(cause, c -> new AtomicLong()).incrementAndGet();
    failureSamples.putIfAbsent(cause, "+" + millisSince(t0) + " ms " + sample);
  }

  static String errorCode(String body) {
    try {
      return new JsonObject(body).getString("error", "?");
    } catch (RuntimeException notJson) {
      return "?";
    }
  }

  /** The gap since the previous successful deposit (writers never stop trying while the chaos runs). */
  synchronized void noteOutage(long now) {
    long gap = (now - lastDepositOk) / 1_000_000;
    if (gap > longestOutageMs) {
      longestOutageMs = gap;
      outageFromMs = (lastDepositOk - t0) / 1_000_000;
      outageToMs = (now - t0) / 1_000_000;
    }
    lastDepositOk = now;
  }

  /** At the end: a few tries within a deadline (a read may meet a node that is still settling). */
  String verify(Acked a) throws InterruptedException {
    long deadline = System.currentTimeMillis() + 20_000;
    String last = "never answered";
    while (System.currentTimeMillis() < deadline) {
      try {
        HttpResponse<byte[]> resp = get(a);
        if (resp.statusCode() == 200) {
          String got = sha256(resp.body());
          return got.equals(a.sha256()) ? "ok"
              : "corrupt: " + resp.body().length + " bytes with sha256 " + got + ", expected " + a.sha256();
        }
        last = resp.statusCode() + " " + new String(resp.body(), StandardCharsets.UTF_8);
      } catch (IOException e) {
        last = e.toString();
      }
      Thread.sleep(500);
    }
    return last;
  }

  // ---------------------------------------------------------------------------------------------------------
  // chaos

  /**
   * Until the time is up: after a random pause, SIGKILL the leading coordinator or a random storage node,
   * leave it down a random while, start it again on its data folder and wait until it is back. One at a time.
   */
  void chaosLoop() throws Exception {
    Random random = new Random(SEED);
    long end = t0 + SECONDS * 1_000_000_000L;
    while (System.nanoTime() < end) {
      Thread.sleep(1000 + random.nextInt(3000));
      if (System.nanoTime() >= end) {
        break;
      }
      boolean coordinator = random.nextInt(100) < 40;
      String storageVictim = STORAGE.get(random.nextInt(STORAGE.size()));
      long downMs = 1000 + random.nextInt(7000);
      String victim = coordinator ? leader() : storageVictim;
      if (victim == null) {
        victim = storageVictim; // between leaders right now: take a storage node
        coordinator = false;
      }
      long killedAt = millisSince(t0);
      if (!cluster.node(victim).killAndAwait(10_000)) {
        throw new IllegalStateException(victim + " survived SIGKILL");
      }
      System.out.printf("[chaos] +%d ms SIGKILL %s%s; down for %d ms%n", killedAt, victim,
          coordinator ? " (leading coordinator)" : "", downMs);
      Thread.sleep(downMs);
      long restartedAt = millisSince(t0);
      cluster.restart(victim);
      cluster.awaitStarted(victim, REGISTERED, START_TIMEOUT_MS);
      awaitUntil("a leading coordinator after restarting " + victim, START_TIMEOUT_MS, () -> leader() != null);
      long backAt = millisSince(t0);
      System.out.printf("[chaos] +%d ms %s restarted, back at +%d ms%n", restartedAt, victim, backAt);
      faults.add(new Fault(coordinator ? "coordinator" : "storage", victim, killedAt, restartedAt, backAt));
    }
  }

  /** Every node up, a leader, then until the leader reports no under-replicated and no lost file; null if never. */
  JsonObject awaitRepair() throws Exception {
    awaitUntil("every node UP after the chaos", START_TIMEOUT_MS, () -> {
      JsonArray nodes = nodes();
      return nodes.size() == 7 && nodes.stream().allMatch(o -> "UP".equals(((JsonObject) o).getString("status")))
          && leader() != null;
    });
    long deadline = System.currentTimeMillis() + HEAL_SECONDS * 1000;
    JsonObject last = null;
    while (System.currentTimeMillis() < deadline) {
      try {
        HttpResponse<String> r = admin("/api/v1/stats");
        if (r.statusCode() == 200) {
          last = new JsonObject(r.body());
          if (last.getLong("underReplicated", -1L) == 0 && last.getLong("lost", -1L) == 0) {
            return last;
          }
        }
      } catch (IOException notNow) {
        // the leader may be changing
      }
      Thread.sleep(500);
    }
    System.out.println("[chaos] repair did not finish; last stats: " + last);
    return null;
  }

  // ---------------------------------------------------------------------------------------------------------
  // cluster view

  static String registerClient(String nickname) throws Exception {
    long deadline = System.currentTimeMillis() + 60_000;
    String last = "";
    while (System.currentTimeMillis() < deadline) {
      try {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(gateway + "/api/v1/clients"))
            .timeout(Duration.ofSeconds(30)).header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(new JsonObject().put("nickname", nickname).encode())).build(),
            HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() == 201) {
          return new JsonObject(r.body()).getString("token");
        }
        last = r.statusCode() + " " + r.body();
      } catch (IOException e) {
        last = e.toString();
      }
      Thread.sleep(500);
    }
    throw new AssertionError("could not register client " + nickname + ": " + last);
  }

  static HttpResponse<String> admin(String path) throws IOException, InterruptedException {
    return HTTP.send(HttpRequest.newBuilder(URI.create(gateway + path)).timeout(Duration.ofSeconds(10))
        .header("Authorization", "Bearer " + cluster.adminToken()).GET().build(), HttpResponse.BodyHandlers.ofString());
  }

  static JsonArray nodes() {
    try {
      HttpResponse<String> r = admin("/api/v1/nodes");
      return r.statusCode() == 200 ? new JsonObject(r.body()).getJsonArray("nodes", new JsonArray()) : new JsonArray();
    } catch (IOException | RuntimeException e) {
      return new JsonArray();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return new JsonArray();
    }
  }

  /** The leading coordinator as the gateway sees it, or null. */
  static String leader() {
    return nodes().stream().map(o -> (JsonObject) o)
        .filter(n -> Boolean.TRUE.equals(n.getValue("leader")) && "UP".equals(n.getString("status")))
        .map(n -> n.getString("id")).findFirst().orElse(null);
  }

  static long liveStorage() {
    return nodes().stream().map(o -> (JsonObject) o)
        .filter(n -> n.getJsonArray("roles", new JsonArray()).contains("storage") && "UP".equals(n.getString("status")))
        .count();
  }

  static void awaitUntil(String what, long timeoutMs, ProcessCluster.Check check) throws Exception {
    ProcessCluster.await(what, timeoutMs, check, () -> cluster.dumpLogs(30));
  }

  void writeReport(long chaosMs, long ops, int checked, List<String> lost, long healMs, JsonObject stats) throws IOException {
    JsonObject failuresJson = new JsonObject();
    new TreeMap<>(failures).forEach((k, v) -> failuresJson.put(k, v.get()));
    JsonArray faultsJson = new JsonArray();
    faults.forEach(f -> faultsJson.add(new JsonObject().put("kind", f.kind()).put("node", f.node())
        .put("killedAtMs", f.killedAtMs()).put("restartedAtMs", f.restartedAtMs()).put("backAtMs", f.backAtMs())));
    JsonObject report = new JsonObject()
        .put("seed", SEED).put("seconds", SECONDS).put("chaosMs", chaosMs).put("clients", CLIENTS)
        .put("operations", ops).put("depositsAcknowledged", depositsOk.get()).put("depositsFailed", depositsFailed.get())
        .put("readsVerified", readsOk.get()).put("readsFailed", readsFailed.get())
        .put("failuresInjected", faults.size()).put("faults", faultsJson)
        .put("acknowledgedChecked", checked).put("acknowledgedLost", lost.size()).put("lost", new JsonArray(lost))
        .put("corruptedReads", corruptions.size()).put("corruptions", new JsonArray(List.copyOf(corruptions)))
        .put("missingDuringRun", new JsonArray(List.copyOf(missingDuringRun)))
        .put("longestWriteUnavailabilityMs", longestOutageMs).put("longestWriteUnavailabilityFromMs", outageFromMs)
        .put("longestWriteUnavailabilityToMs", outageToMs).put("healMs", healMs).put("finalStats", stats)
        .put("startupRetries", new JsonArray(cluster.startupRetries()))
        .put("failuresByCause", failuresJson).put("failureSamples", new JsonObject(new TreeMap<String, Object>(failureSamples)));
    Files.writeString(moduleDir.resolve("target").resolve("chaos-report.json"), report.encodePrettily());
  }
}
