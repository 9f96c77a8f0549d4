package depot.storage;

import depot.testing.OnLoop;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Small replicas in a pack on a real disk, reopened as after a crash (the pack never closed). */
class PackStoreTest {
  static final int CHUNK = 1024;

  @TempDir
  Path dir;
  Vertx vertx;

  @BeforeEach
  void up() {
    vertx = Vertx.vertx();
  }

  @AfterEach
  void down() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get();
  }

  PackStore open() throws Exception {
    PackStore packs = new PackStore(vertx, dir);
    packs.openBlocking();
    return packs;
  }

  static Buffer content(int seed, int size) {
    byte[] b = new byte[size];
    new Random(seed).nextBytes(b);
    return Buffer.buffer(b);
  }

  static BlobManifest manifest(Buffer data) {
    StreamDigest digest = new StreamDigest(CHUNK);
    digest.update(data);
    String sha = digest.finish();
    return new BlobManifest(BlobIds.newId(), data.length(), sha, CHUNK, digest.chunkCrcs(), Instant.now().toString());
  }

  /** Puts them all at once (one or a few group commits) and waits until they are durable. */
  List<BlobManifest> put(PackStore packs, List<Buffer> contents) throws Exception {
    List<BlobManifest> manifests = contents.stream().map(PackStoreTest::manifest).toList();
    OnLoop.run(vertx, () -> {
      List<Future<Void>> puts = new ArrayList<>();
      for (int i = 0; i < contents.size(); i++) {
        puts.add(packs.put(manifests.get(i), contents.get(i)));
      }
      return Future.all(puts);
    });
    return manifests;
  }

  void assertHolds(PackStore packs, List<BlobManifest> manifests, List<Buffer> contents) throws Exception {
    for (int i = 0; i < manifests.size(); i++) {
      String id = manifests.get(i).blobId();
      assertTrue(packs.has(id), "replica " + i + " indexed");
      Buffer read = OnLoop.run(vertx, () -> packs.read(id));
      assertEquals(contents.get(i), read, "replica " + i + " reads back");
    }
  }

  @Test
  void aPackReopenedAfterACrashIndexesEveryReplicaAndServesItsManifest() throws Exception {
    PackStore packs = open();
    List<Buffer> first = List.of(content(1, 4096), content(2, 10), content(3, 3000));
    List<BlobManifest> firstManifests = put(packs, first);
    for (BlobManifest m : firstManifests) {
      BlobManifest indexed = packs.location(m.blobId()).manifest(m.blobId());
      assertEquals(m.sha256(), indexed.sha256());
      assertEquals(m.size(), indexed.size());
      assertArrayEquals(m.crcs(), indexed.crcs());
    }

    // No close: as after a crash.
    PackStore reopened = open();
    assertEquals(3, reopened.entries().size());
    assertHolds(reopened, firstManifests, first);
    assertEquals(firstManifests.get(0).sha256(),
        reopened.location(firstManifests.get(0).blobId()).manifest(firstManifests.get(0).blobId()).sha256());

    List<Buffer> second = List.of(content(4, 4096), content(5, 1));
    List<BlobManifest> secondManifests = put(reopened, second);
    PackStore third = open();
    assertEquals(5, third.entries().size());
    assertHolds(third, firstManifests, first);
    assertHolds(third, secondManifests, second);
  }
}
