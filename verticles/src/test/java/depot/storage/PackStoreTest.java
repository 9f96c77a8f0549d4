package depot.storage;

import depot.testing.ChildJvm;
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
import static org.junit.jupiter.api.Assertions.assertFalse;
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
    return open(PackStore.ROLL_BYTES);
  }

  PackStore open(long rollBytes) throws Exception {
    return open(rollBytes, 0);
  }

  PackStore open(long rollBytes, long compactionBytesPerSecond) throws Exception {
    PackStore packs = new PackStore(vertx, dir, rollBytes, compactionBytesPerSecond);
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

  static void assertIndexedAs(PackStore packs, BlobManifest m) {
    BlobManifest indexed = packs.location(m.blobId()).manifest(m.blobId());
    assertEquals(m.blobId(), indexed.blobId());
    assertEquals(m.size(), indexed.size());
    assertEquals(m.sha256(), indexed.sha256());
    assertEquals(m.chunkSize(), indexed.chunkSize());
    assertArrayEquals(m.crcs(), indexed.crcs(), m.size() + " bytes");
  }

  /** The index keeps a manifest's hash and checksums in fields, not arrays: none, one or several chunks. */
  @Test
  void theIndexGivesBackEachManifestAsStored() throws Exception {
    PackStore packs = open();
    List<Buffer> contents = List.of(content(1, 0), content(2, 1), content(3, CHUNK), content(4, 3 * CHUNK + 7));
    List<BlobManifest> manifests = put(packs, contents);
    for (BlobManifest m : manifests) {
      assertIndexedAs(packs, m);
    }
    java.util.Set<String> ids = new java.util.HashSet<>();
    packs.forEachId(id -> ids.add(id.toString()));
    assertEquals(java.util.Set.copyOf(manifests.stream().map(BlobManifest::blobId).toList()), ids);
    assertFalse(packs.has("not-a-blob-id"), "an id that is no UUID is simply not there");
    assertFalse(packs.has(manifests.get(0).blobId().toUpperCase(java.util.Locale.ROOT)), "ids are lower case");
  }

  @Test
  void replicasPutInOneTurnAreSyncedInOneBatch() throws Exception {
    // A batch request's replicas are put one after the other, hashing each in between: the batch is queued
    // at the end of the turn, not at the first put, so a worker does not sync that one alone.
    PackStore packs = open();
    long before = packs.syncs();
    List<Buffer> contents = List.of(content(41, 4096), content(42, 4096), content(43, 4096), content(44, 4096));
    List<BlobManifest> manifests = contents.stream().map(PackStoreTest::manifest).toList();
    OnLoop.run(vertx, () -> {
      List<Future<Void>> puts = new ArrayList<>();
      for (int i = 0; i < contents.size(); i++) {
        puts.add(packs.put(manifests.get(i), contents.get(i)));
        long until = System.nanoTime() + 2_000_000; // the hashing of a larger replica, say
        while (System.nanoTime() < until) {
          Thread.onSpinWait();
        }
      }
      return Future.all(puts);
    });
    assertEquals(1, packs.syncs() - before, "one fsync for the four");
    assertHolds(packs, manifests, contents);
  }

  @Test
  void aPackReopenedAfterACrashIndexesEveryReplicaAndServesItsManifest() throws Exception {
    PackStore packs = open();
    List<Buffer> first = List.of(content(1, 4096), content(2, 10), content(3, 3000));
    List<BlobManifest> firstManifests = put(packs, first);
    for (BlobManifest m : firstManifests) {
      assertIndexedAs(packs, m);
    }

    // No close: as after a crash.
    PackStore reopened = open();
    assertEquals(3, reopened.size());
    assertHolds(reopened, firstManifests, first);
    assertEquals(firstManifests.get(0).sha256(),
        reopened.location(firstManifests.get(0).blobId()).manifest(firstManifests.get(0).blobId()).sha256());

    List<Buffer> second = List.of(content(4, 4096), content(5, 1));
    List<BlobManifest> secondManifests = put(reopened, second);
    PackStore third = open();
    assertEquals(5, third.size());
    assertHolds(third, firstManifests, first);
    assertHolds(third, secondManifests, second);
  }

  Path firstPack() {
    return dir.resolve("pack-000001.dat");
  }

  @Test
  void zerosAreKeptWrittenAheadOfThePacksEnd() throws Exception {
    // Synced over zeros already on disk, an append changes no metadata (ZeroFilledTail).
    PackStore packs = open();
    put(packs, List.of(content(31, 4096)));
    long end = packs.bytesOnDisk();
    assertEquals(end + PackStore.ZERO_CHUNK_BYTES, java.nio.file.Files.size(firstPack()), "zeros ahead of the end");
    List<BlobManifest> more = put(packs, List.of(content(32, 4096), content(33, 100)));
    assertEquals(end + PackStore.ZERO_CHUNK_BYTES, java.nio.file.Files.size(firstPack()), "appends fit in the zeros");

    PackStore reopened = open(); // no close, as after a crash
    assertEquals(3, reopened.size());
    assertHolds(reopened, more, List.of(content(32, 4096), content(33, 100)));
  }

  /** Writes {@code bytes} where the pack's records end, over the zeros ahead of them. */
  void writeAtEnd(PackStore packs, byte[] bytes) throws Exception {
    try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(firstPack(),
        java.nio.file.StandardOpenOption.WRITE)) {
      ch.write(java.nio.ByteBuffer.wrap(bytes), packs.bytesOnDisk());
    }
  }

  @Test
  void aTornRecordAtTheTailIsCutOffAndAppendsGoOnAfterTheLastWholeOne() throws Exception {
    // A crash in the middle of appending leaves the start of a record, never acknowledged, over the zeros
    // ahead of the end: cut in its header (40 bytes) or in its bytes (700, past the header's 300 or so).
    for (int cut : new int[] {40, 700}) {
      java.nio.file.Files.deleteIfExists(firstPack());
      PackStore packs = open();
      List<Buffer> contents = List.of(content(11, 4096), content(12, 4096));
      List<BlobManifest> manifests = put(packs, contents);
      long whole = packs.bytesOnDisk();
      writeAtEnd(packs, java.util.Arrays.copyOf(java.nio.file.Files.readAllBytes(firstPack()), cut));

      PackStore reopened = open();
      assertEquals(whole, java.nio.file.Files.size(firstPack()), "the record torn at " + cut + " is cut off");
      assertHolds(reopened, manifests, contents);
      List<BlobManifest> later = put(reopened, List.of(content(13, 100)));
      assertHolds(open(), later, List.of(content(13, 100)));
    }
  }

  @Test
  void rotInOneRecordLosesThatReplicaOnlyNotTheOnesAfterIt() throws Exception {
    PackStore packs = open();
    List<Buffer> contents = List.of(content(21, 4096), content(22, 4096), content(23, 4096));
    List<BlobManifest> manifests = put(packs, contents);
    long rotAt = packs.location(manifests.get(1).blobId()).dataOffset() + 1000;
    try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(firstPack().toFile(), "rw")) {
      f.seek(rotAt);
      int b = f.read();
      f.seek(rotAt);
      f.write(b ^ 0x40);
    }

    PackStore reopened = open();
    assertFalse(reopened.has(manifests.get(1).blobId()), "the rotten replica is not served");
    assertHolds(reopened, List.of(manifests.get(0), manifests.get(2)), List.of(contents.get(0), contents.get(2)));
  }

  // ---------------------------------------------------------------------------------------------------------
  // compaction: small packs (rolled at 64 KiB, so 16 replicas of 4 KiB fill one)

  static final long SMALL_ROLL = 64 * 1024;

  static List<Buffer> contents(int from, int count) {
    List<Buffer> all = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      all.add(content(from + i, 4096));
    }
    return all;
  }

  /** Puts one at a time, so each lands after the one before (and packs roll between them). */
  List<BlobManifest> putInOrder(PackStore packs, List<Buffer> contents) throws Exception {
    List<BlobManifest> manifests = new ArrayList<>();
    for (Buffer c : contents) {
      manifests.addAll(put(packs, List.of(c)));
    }
    return manifests;
  }

  void delete(PackStore packs, List<BlobManifest> manifests) throws Exception {
    for (BlobManifest m : manifests) {
      OnLoop.run(vertx, () -> packs.delete(m.blobId()));
    }
  }

  /** Compacts until nothing is due; the packs compacted, in order. */
  List<Integer> compactAll(PackStore packs) throws Exception {
    List<Integer> compacted = new ArrayList<>();
    for (int n = OnLoop.run(vertx, packs::compactOne); n != 0; n = OnLoop.run(vertx, packs::compactOne)) {
      compacted.add(n);
    }
    return compacted;
  }

  long packFileBytes() throws Exception {
    try (var files = java.nio.file.Files.list(dir)) {
      return files.mapToLong(p -> p.toFile().length()).sum();
    }
  }

  void assertGone(PackStore packs, List<BlobManifest> manifests) {
    for (BlobManifest m : manifests) {
      assertFalse(packs.has(m.blobId()), m.blobId() + " was deleted");
    }
  }

  @Test
  void mostlyDeletedPacksAreRewrittenAndTheirLiveReplicasLastThroughAReopen() throws Exception {
    PackStore packs = open(SMALL_ROLL);
    List<Buffer> all = contents(100, 64);
    List<BlobManifest> manifests = putInOrder(packs, all);
    List<BlobManifest> kept = new ArrayList<>();
    List<Buffer> keptContents = new ArrayList<>();
    List<BlobManifest> deleted = new ArrayList<>();
    for (int i = 0; i < manifests.size(); i++) {
      if (i % 4 == 0) {
        kept.add(manifests.get(i));
        keptContents.add(all.get(i));
      } else {
        deleted.add(manifests.get(i));
      }
    }
    delete(packs, deleted);
    long before = packFileBytes();

    List<Integer> compacted = compactAll(packs);

    assertFalse(compacted.isEmpty(), "a pack three quarters deleted is compacted");
    for (int n : compacted) {
      assertFalse(java.nio.file.Files.exists(dir.resolve(String.format("pack-%06d.dat", n))), "pack " + n + " deleted");
    }
    long after = packFileBytes();
    assertTrue(after < before / 2, "the packs shrank: " + before + " -> " + after + " bytes");
    long zeros = after - packs.bytesOnDisk();
    assertTrue(zeros >= 0 && zeros <= SMALL_ROLL, "the files hold the records and the current pack's zeros: " + zeros);
    assertHolds(packs, kept, keptContents);
    assertGone(packs, deleted);

    PackStore reopened = open(SMALL_ROLL);
    assertEquals(kept.size(), reopened.size(), "after a reopen only the kept replicas are there");
    assertHolds(reopened, kept, keptContents);
    assertGone(reopened, deleted);
  }

  /** Pack 1 full of live replicas but one, the victim; its deletion record in a later pack among deleted ones. */
  record OneDeletedAmongLive(List<Buffer> first, List<BlobManifest> firstManifests, BlobManifest victim, int deletedIn) {}

  OneDeletedAmongLive deleteOneAmongLive(PackStore packs, int seed) throws Exception {
    List<Buffer> first = contents(seed, 16);
    List<BlobManifest> firstManifests = putInOrder(packs, first);
    BlobManifest victim = firstManifests.get(0);
    List<BlobManifest> filler = putInOrder(packs, contents(seed + 100, 20));
    delete(packs, List.of(victim));
    int deletedIn = packs.currentPack();
    delete(packs, filler);
    assertTrue(deletedIn > 1);
    return new OneDeletedAmongLive(first, firstManifests, victim, deletedIn);
  }

  /** About 3 MiB live in a sealed pack, copied forward at 1 MiB/s: about three seconds, in 2 MiB batches paced apart. */
  @Test
  void compactionCopiesNoFasterThanItsLimit() throws Exception {
    int size = 256 * 1024;
    PackStore packs = open(8L << 20, 1 << 20);
    List<Buffer> all = new ArrayList<>();
    for (int i = 0; i < 48; i++) {
      all.add(content(500 + i, size));
    }
    // Pack 1 rolls once past 8 MiB, after the batch that crossed it (a batch takes what has arrived): the first
    // 9 MiB fill it, the rest begin pack 2.
    List<BlobManifest> manifests = new ArrayList<>(put(packs, all.subList(0, 36)));
    manifests.addAll(put(packs, all.subList(36, 48)));
    List<BlobManifest> kept = new ArrayList<>();
    List<Buffer> keptContents = new ArrayList<>();
    int inFirst = 0;
    for (int i = 0; i < all.size(); i++) {
      if (packs.location(manifests.get(i).blobId()).pack() != 1) {
        continue;
      }
      if (inFirst++ % 3 == 0) {
        kept.add(manifests.get(i));
        keptContents.add(all.get(i));
      } else {
        delete(packs, List.of(manifests.get(i)));
      }
    }
    assertTrue(inFirst >= 32 && inFirst < all.size(), inFirst + " replicas in pack 1");
    long liveMs = (long) kept.size() * size * 1000 / (1 << 20);

    long started = System.nanoTime();
    assertEquals(1, (int) OnLoop.run(vertx, packs::compactOne), "the first pack, a third live, is compacted");
    long tookMs = (System.nanoTime() - started) / 1_000_000;

    assertTrue(tookMs >= liveMs - 10, kept.size() * size + " bytes copied at 1 MiB/s took " + tookMs + " ms");
    assertHolds(packs, kept, keptContents);
  }

  /**
   * Compaction holds one batch in memory, never the pack's live bytes: 800 replicas of 200 KiB (a pack of 128
   * MiB sealed, about 43 MiB of it live) compacted in a JVM whose whole heap is 32 MiB. Its direct memory is
   * 8 MiB: writes go through one reused buffer (through the JDK's cached temporary buffers, a record each,
   * the fill ran out of it in 3 of 3 runs).
   */
  @Test
  void compactingAPackNeedsNoMoreHeapThanABatch() throws Exception {
    ChildJvm.Result child = ChildJvm.run(CompactionInSmallHeap.class,
        List.of("-Xmx32m", "-XX:MaxDirectMemorySize=8m", "-XX:+ExitOnOutOfMemoryError"), 120, dir.toString(), "800", String.valueOf(128L << 20));
    assertEquals(0, child.exitCode(), child.output());
    assertTrue(child.output().contains("compacted pack 1; 267 replicas kept and read back"), child.output());
  }

  @Test
  void aDeletionRecordIsCarriedForwardWhileAnOlderPackStillHoldsTheReplica() throws Exception {
    PackStore packs = open(SMALL_ROLL);
    OneDeletedAmongLive d = deleteOneAmongLive(packs, 200);

    List<Integer> compacted = compactAll(packs);

    assertFalse(compacted.contains(1), "pack 1 is mostly live");
    assertTrue(compacted.contains(d.deletedIn()), "the pack with the deletion record is compacted: " + compacted);
    PackStore reopened = open(SMALL_ROLL);
    assertFalse(reopened.has(d.victim().blobId()), "the deleted replica does not come back from pack 1");
    assertHolds(reopened, d.firstManifests().subList(1, 16), d.first().subList(1, 16));
  }

  @Test
  void aDeletionCarriedForwardNeverDeletesANewerCopyOfItsReplica() throws Exception {
    PackStore packs = open(SMALL_ROLL);
    OneDeletedAmongLive d = deleteOneAmongLive(packs, 400);
    // The same replica stored again (a repair copying it back), in a later pack than its deletion record.
    delete(packs, putInOrder(packs, contents(600, 16)));
    OnLoop.run(vertx, () -> packs.put(d.victim(), d.first().get(0)));
    assertTrue(packs.location(d.victim().blobId()).pack() > d.deletedIn(), "stored again in a later pack");

    List<Integer> compacted = compactAll(packs);

    assertTrue(compacted.contains(d.deletedIn()), "the pack with the deletion record is compacted: " + compacted);
    assertHolds(packs, List.of(d.victim()), List.of(d.first().get(0)));
    PackStore reopened = open(SMALL_ROLL);
    assertHolds(reopened, d.firstManifests(), d.first());
  }

  @Test
  void replicasDeletedWhileTheirPackIsCompactedStayDeleted() throws Exception {
    PackStore packs = open(SMALL_ROLL);
    List<Buffer> all = contents(700, 48);
    List<BlobManifest> manifests = putInOrder(packs, all);
    List<BlobManifest> deletedBefore = new ArrayList<>();
    List<BlobManifest> deletedDuring = new ArrayList<>();
    List<BlobManifest> kept = new ArrayList<>();
    List<Buffer> keptContents = new ArrayList<>();
    for (int i = 0; i < manifests.size(); i++) {
      (i % 4 == 0 ? kept : i % 4 == 1 ? deletedDuring : deletedBefore).add(manifests.get(i));
      if (i % 4 == 0) {
        keptContents.add(all.get(i));
      }
    }
    delete(packs, deletedBefore);

    // Deletions issued as compaction starts, and while its copies are queued or being written.
    OnLoop.run(vertx, () -> {
      Future<Integer> compaction = packs.compactOne();
      List<Future<Void>> deletions = new ArrayList<>();
      for (int i = 0; i < deletedDuring.size(); i++) {
        String id = deletedDuring.get(i).blobId();
        if (i % 2 == 0) {
          deletions.add(packs.delete(id));
        } else {
          io.vertx.core.Promise<Void> later = io.vertx.core.Promise.promise();
          vertx.setTimer(1 + i, t -> packs.delete(id).onComplete(later));
          deletions.add(later.future());
        }
      }
      return Future.all(compaction, Future.all(deletions)).mapEmpty();
    });
    compactAll(packs);

    assertGone(packs, deletedDuring);
    assertHolds(packs, kept, keptContents);
    PackStore reopened = open(SMALL_ROLL);
    assertGone(reopened, deletedDuring);
    assertGone(reopened, deletedBefore);
    assertHolds(reopened, kept, keptContents);
  }

  @Test
  void aMostlyDeletedCurrentPackIsSealedSoItCanBeCompacted() throws Exception {
    PackStore packs = open(SMALL_ROLL);
    List<Buffer> all = contents(800, 12); // 48 KiB: above a quarter of a full pack, below the roll
    List<BlobManifest> manifests = putInOrder(packs, all);
    delete(packs, manifests.subList(1, 12));
    assertEquals(1, packs.location(manifests.get(0).blobId()).pack());

    List<Integer> compacted = compactAll(packs);

    assertEquals(List.of(1), compacted, "pack 1 was current: it is sealed, then compacted");
    assertTrue(packs.location(manifests.get(0).blobId()).pack() > 1);
    PackStore reopened = open(SMALL_ROLL);
    assertHolds(reopened, manifests.subList(0, 1), all.subList(0, 1));
    assertGone(reopened, manifests.subList(1, 12));
  }
}
