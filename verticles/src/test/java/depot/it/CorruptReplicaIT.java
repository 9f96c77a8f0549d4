package depot.it;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.io.RandomAccessFile;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static depot.it.DepositRetrieveIT.random;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Bytes flipped on a disk are never served: reads go on from another replica, and the bad copy is replaced. */
class CorruptReplicaIT extends ClusterTestBase {

  static List<Path> dataFiles(String node) throws Exception {
    try (Stream<Path> walk = Files.walk(cluster.dataDir(node).resolve("blobs"))) {
      return walk.filter(Files::isRegularFile).filter(p -> !p.toString().endsWith(".meta")).toList();
    }
  }

  /** Polls the file's record until the victim no longer holds it and two live replicas exist again (or time runs out). */
  static JsonObject awaitReplaced(String token, String name, String victim, long timeoutMs) throws Exception {
    long deadline = System.currentTimeMillis() + timeoutMs;
    JsonObject now;
    do {
      now = new JsonObject(api.get(token, "/api/v1/files/" + name + "/meta").body());
      if (!now.getJsonArray("nodes").contains(victim) && now.getInteger("liveReplicas") == 2) {
        return now;
      }
      Thread.sleep(200);
    } while (System.currentTimeMillis() < deadline);
    return now;
  }

  static void flipByte(Path file, long offset) throws Exception {
    try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
      raf.seek(offset);
      int b = raf.read();
      raf.seek(offset);
      raf.write(b ^ 0xFF);
    }
  }

  @Test
  void corruptedLargeReplicaIsNeverServedAndGetsReplaced() throws Exception {
    String token = api.register("bitrot").getString("token");
    byte[] data = random(2 * 1024 * 1024, 5);
    assertEquals(201, api.deposit(token, "precious.bin", data, 2, null).statusCode());
    JsonObject record = new JsonObject(api.get(token, "/api/v1/files/precious.bin/meta").body());
    List<String> holders = record.getJsonArray("nodes").stream().map(String::valueOf).toList();
    assertEquals(2, holders.size());

    // Corrupt both copies' far halves differently? No: corrupt ONE copy in the middle; every read must still be right.
    String victim = holders.get(0);
    List<Path> files = dataFiles(victim).stream().filter(p -> p.toFile().length() == data.length).toList();
    assertEquals(1, files.size(), "the replica of precious.bin on " + victim);
    flipByte(files.get(0), 1_500_000);

    for (int i = 0; i < 6; i++) {
      HttpResponse<byte[]> got = api.retrieve(token, "precious.bin");
      assertEquals(200, got.statusCode());
      assertArrayEquals(data, got.body(), "read " + i + " returned exactly the deposited bytes");
    }
    // The coordinator learns of the corruption from the storage node, drops that copy and makes a new one.
    JsonObject now = awaitReplaced(token, "precious.bin", victim, 20_000);
    assertFalse(now.getJsonArray("nodes").contains(victim), "corrupt replica dropped: " + now.encode());
    assertEquals(2, now.getInteger("liveReplicas"), "replaced: " + now.encode());
    assertArrayEquals(data, api.retrieve(token, "precious.bin").body());
  }

  @Test
  void theScrubberFindsRotNobodyReadsAndReplacesTheCopy() throws Exception {
    String token = api.register("unread").getString("token");
    byte[] data = random(1_500_000, 13);
    assertEquals(201, api.deposit(token, "archive.bin", data, 2, null).statusCode());
    JsonObject record = new JsonObject(api.get(token, "/api/v1/files/archive.bin/meta").body());
    String victim = record.getJsonArray("nodes").getString(1);
    String blobId = cluster.anyVertx().eventBus().<JsonObject>request("depot.storage.node." + victim,
        new JsonObject().put("action", "inventory")).toCompletionStage().toCompletableFuture().get()
        .body().getJsonArray("blobIds").stream().map(String::valueOf)
        .filter(id -> {
          try (Stream<Path> walk = Files.walk(cluster.dataDir(victim).resolve("blobs"))) {
            return walk.anyMatch(p -> p.getFileName().toString().equals(id)
                && p.toFile().length() == data.length);
          } catch (Exception e) {
            return false;
          }
        }).findFirst().orElseThrow();
    Path file;
    try (Stream<Path> walk = Files.walk(cluster.dataDir(victim).resolve("blobs"))) {
      file = walk.filter(p -> p.getFileName().toString().equals(blobId)).findFirst().orElseThrow();
    }
    flipByte(file, 700_000);
    // Nobody reads the file: the scrubber must find the rot, and the coordinator must replace the copy.
    JsonObject now = awaitReplaced(token, "archive.bin", victim, 30_000);
    assertFalse(now.getJsonArray("nodes").contains(victim), "scrubbed away: " + now.encode());
    assertEquals(2, now.getInteger("liveReplicas"), "replaced: " + now.encode());
    assertArrayEquals(data, api.retrieve(token, "archive.bin").body());
  }

  @Test
  void corruptedPackedReplicaIsNeverServed() throws Exception {
    String token = api.register("smallrot").getString("token");
    byte[] data = random(10_000, 9);
    assertEquals(201, api.deposit(token, "tiny.bin", data, 2, null).statusCode());
    JsonObject record = new JsonObject(api.get(token, "/api/v1/files/tiny.bin/meta").body());
    String victim = record.getJsonArray("nodes").getString(0);
    Path pack;
    try (Stream<Path> walk = Files.list(cluster.dataDir(victim).resolve("packs"))) {
      pack = walk.filter(p -> p.getFileName().toString().startsWith("pack-")).findFirst().orElseThrow();
    }
    // In the middle of the record's bytes (the pack keeps zeros written after its last record).
    long at = indexOf(Files.readAllBytes(pack), data);
    assertTrue(at >= 0, "the replica's bytes are in " + pack);
    flipByte(pack, at + 5_000);
    for (int i = 0; i < 6; i++) {
      HttpResponse<byte[]> got = api.retrieve(token, "tiny.bin");
      assertEquals(200, got.statusCode());
      assertArrayEquals(data, got.body());
    }
    JsonObject now = awaitReplaced(token, "tiny.bin", victim, 20_000);
    assertTrue(!now.getJsonArray("nodes").contains(victim) && now.getInteger("liveReplicas") == 2, now.encode());
  }

  static long indexOf(byte[] haystack, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= haystack.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (haystack[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }
}
