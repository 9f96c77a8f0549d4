package depot.it;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static depot.it.DepositRetrieveIT.random;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Deleting small files gives their disk space back: each storage node rewrites its mostly deleted pack
 * files, and what is left reads back byte for byte, also after the whole cluster restarts.
 */
class PackCompactionIT {
  static final int FILES = 48;
  static final int SIZE = 64 * 1024;
  /** Packs of 1 MiB, so 48 files of 64 KiB fill a few of them on every node. */
  static final JsonObject SMALL_PACKS = new JsonObject().put("packRollBytes", 1024 * 1024)
      .put("packCompactionIntervalMs", 300);

  static Path root;
  static TestCluster cluster;

  @BeforeAll
  static void start() throws Exception {
    root = Files.createTempDirectory("depot-compaction-it-");
    cluster = TestCluster.start(3, SMALL_PACKS, root);
  }

  @AfterAll
  static void stop() throws Exception {
    try {
      if (cluster != null) {
        cluster.closeKeepingData();
      }
    } finally {
      TestCluster.deleteTree(root);
    }
  }

  /** The bytes of each of the node's pack files (a few MiB in all here). */
  static List<byte[]> packs(String node) throws Exception {
    List<byte[]> contents = new ArrayList<>();
    try (Stream<Path> packs = Files.list(cluster.dataDir(node).resolve("packs"))) {
      for (Path pack : packs.toList()) {
        contents.add(Files.readAllBytes(pack));
      }
    }
    return contents;
  }

  /**
   * Bytes of records in the node's packs: not the zeros kept written ahead of the current pack's end, up to a
   * whole 1 MiB chunk here, which appear with the first write after a restart and would swamp the figure.
   */
  static long packBytes(String node) throws Exception {
    return packs(node).stream().mapToLong(PackCompactionIT::endOfRecords).sum();
  }

  /**
   * Where the pack's last non-zero byte ends: a sealed pack's whole length; the current pack's records without
   * the zeros ahead (and without any zero bytes its last replica happens to end with, a few at most).
   */
  static int endOfRecords(byte[] pack) {
    int end = pack.length;
    while (end > 0 && pack[end - 1] == 0) {
      end--;
    }
    return end;
  }

  /**
   * The zeros kept ahead of the current pack's end never exceed one chunk (the pack size here); sealed packs
   * keep none. Each pack may add the few zero bytes its last replica happens to end with.
   */
  static void assertZerosAheadAreBounded(String node) throws Exception {
    List<byte[]> packs = packs(node);
    long zeros = packs.stream().mapToLong(p -> p.length - endOfRecords(p)).sum();
    long bound = SMALL_PACKS.getInteger("packRollBytes") + 64L * packs.size();
    assertTrue(zeros <= bound, node + " keeps " + zeros + " bytes of zeros ahead in " + packs.size() + " packs");
  }

  static long packFiles(String node) throws Exception {
    try (Stream<Path> packs = Files.list(cluster.dataDir(node).resolve("packs"))) {
      return packs.count();
    }
  }

  @Test
  void deletedSmallFilesGiveTheirSpaceBackAndTheRestReadsBackAfterARestart() throws Exception {
    Api api = new Api(cluster.baseUrl());
    String token = api.register("tidy").getString("token");
    Map<String, byte[]> kept = new HashMap<>();
    List<String> deleted = new ArrayList<>();
    for (int i = 0; i < FILES; i++) {
      byte[] data = random(SIZE, 9000 + i);
      String name = "small-" + i + ".bin";
      assertEquals(201, api.deposit(token, name, data, 3, null).statusCode(), name);
      if (i % 4 == 0) {
        kept.put(name, data);
      } else {
        deleted.add(name);
      }
    }
    Map<String, Long> before = new HashMap<>();
    for (String node : cluster.storageNodeIds()) {
      before.put(node, packBytes(node));
      assertTrue(packFiles(node) >= 3, node + " filled several packs: " + packFiles(node));
      assertTrue(before.get(node) >= (long) FILES * SIZE, node + " holds every file: " + before.get(node) + " bytes");
    }

    for (String name : deleted) {
      assertEquals(204, api.delete(token, name).statusCode(), name);
    }

    // A quarter of the files is left: every node's packs shrink to well under half of what they were.
    long deadline = System.currentTimeMillis() + 30_000;
    Map<String, Long> after = new HashMap<>();
    boolean shrunk;
    do {
      Thread.sleep(200);
      shrunk = true;
      for (String node : cluster.storageNodeIds()) {
        after.put(node, packBytes(node));
        shrunk &= after.get(node) < before.get(node) * 0.45;
      }
    } while (!shrunk && System.currentTimeMillis() < deadline);
    assertTrue(shrunk, "pack bytes before " + before + ", after " + after);

    assertFilesAre(api, token, kept, deleted);
    cluster.closeKeepingData();
    cluster = TestCluster.start(3, SMALL_PACKS, root);
    api = new Api(cluster.baseUrl());
    assertFilesAre(api, token, kept, deleted);
    // A deposit after the restart appends to the current pack, which keeps zeros written ahead again.
    byte[] late = random(SIZE, 9999);
    assertEquals(201, api.deposit(token, "late.bin", late, 3, null).statusCode());
    kept.put("late.bin", late);
    assertFilesAre(api, token, kept, deleted);
    for (String node : cluster.storageNodeIds()) {
      assertTrue(packBytes(node) < before.get(node) * 0.45, node + " after the restart: " + packBytes(node) + " bytes");
      assertZerosAheadAreBounded(node);
    }
  }

  static void assertFilesAre(Api api, String token, Map<String, byte[]> kept, List<String> deleted) throws Exception {
    JsonObject listing = new JsonObject(api.get(token, "/api/v1/files").body());
    assertEquals(kept.size(), listing.getJsonArray("files").size(), listing.encode());
    for (Map.Entry<String, byte[]> e : kept.entrySet()) {
      HttpResponse<byte[]> got = api.retrieve(token, e.getKey());
      assertEquals(200, got.statusCode(), e.getKey());
      assertArrayEquals(e.getValue(), got.body(), e.getKey() + " reads back byte for byte");
      JsonObject meta = new JsonObject(api.get(token, "/api/v1/files/" + e.getKey() + "/meta").body());
      assertEquals(3, meta.getInteger("liveReplicas"), meta.encode());
    }
    for (String name : deleted) {
      assertEquals(404, api.retrieve(token, name).statusCode(), name);
    }
  }
}
