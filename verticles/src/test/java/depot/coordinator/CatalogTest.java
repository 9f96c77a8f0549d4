package depot.coordinator;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CatalogTest {
  static final String ALICE = "c-alice";
  static final String BOB = "c-bob";
  static final String SHA_A = "a".repeat(64);
  static final String SHA_B = "b".repeat(64);
  static final String SHA_C = "c".repeat(64);

  Catalog catalog;
  long clock;

  @BeforeEach
  void fresh() {
    catalog = new Catalog();
    clock = 0;
  }

  // ---- op builders: the shapes CoordinatorVerticle journals ----

  JsonObject stamp(JsonObject op) {
    clock++;
    return op.put("lamport", clock).put("ts", 1_000_000L + clock);
  }

  JsonObject clientAdd(String id, String nickname) {
    return stamp(new JsonObject().put("op", Catalog.OP_CLIENT_ADD).put("clientId", id).put("nickname", nickname)
        .put("tokenHash", "hash-of-" + id).put("at", "2024-01-01T00:00:00Z"));
  }

  JsonObject put(String owner, String name, String blobId, String sha, long size, int replicas, String... nodes) {
    return stamp(new JsonObject().put("op", Catalog.OP_FILE_PUT).put("owner", owner).put("name", name)
        .put("blobId", blobId).put("sha256", sha).put("size", size).put("replicas", replicas)
        .put("nodes", new JsonArray(List.of((Object[]) nodes))).put("at", java.time.Instant.ofEpochSecond(1_704_067_200L + clock).toString()));
  }

  /** A dedup'd put: no nodes, the blob exists already. */
  JsonObject dedup(String owner, String name, String blobId, String sha, long size, int replicas) {
    JsonObject op = put(owner, name, blobId, sha, size, replicas);
    op.remove("nodes");
    return op;
  }

  JsonObject delete(String owner, String name) {
    return stamp(new JsonObject().put("op", Catalog.OP_FILE_DELETE).put("owner", owner).put("name", name));
  }

  JsonObject replicas(String owner, String name, int replicas) {
    return stamp(new JsonObject().put("op", Catalog.OP_FILE_REPLICAS).put("owner", owner).put("name", name)
        .put("replicas", replicas));
  }

  JsonObject blobNodes(String blobId, List<String> add, List<String> remove) {
    return stamp(new JsonObject().put("op", Catalog.OP_BLOB_NODES).put("blobId", blobId)
        .put("add", new JsonArray(new ArrayList<>(add))).put("remove", new JsonArray(new ArrayList<>(remove))));
  }

  JsonObject drop(String blobId) {
    return stamp(new JsonObject().put("op", Catalog.OP_BLOB_DROP).put("blobId", blobId));
  }

  JsonObject apply(JsonObject op) {
    if (recording != null) {
      recording.add(op.encode());
    }
    return catalog.apply(op);
  }

  @Test
  void entriesShareOneInstanceOfEachNodeAndClientId() {
    // Decoded from journal lines, every operation brings its own copies of the ids.
    apply(new JsonObject(clientAdd(new String(ALICE), "alice").encode()));
    apply(new JsonObject(put(new String(ALICE), "a", "blob-a", SHA_A, 1, 2, new String("n1"), new String("n2")).encode()));
    apply(new JsonObject(put(new String(ALICE), "b", "blob-b", SHA_B, 1, 2, new String("n2"), new String("n1")).encode()));
    apply(new JsonObject(blobNodes("blob-a", List.of(new String("n3")), List.of()).encode()));
    apply(new JsonObject(put(new String(ALICE), "c", "blob-c", "c".repeat(64), 1, 1, new String("n3")).encode()));
    BlobEntry a = catalog.blob("blob-a");
    BlobEntry b = catalog.blob("blob-b");
    BlobEntry c = catalog.blob("blob-c");
    assertSame(catalog.client(ALICE).clientId(), a.owner);
    assertSame(a.owner, b.owner);
    assertSame(a.owner, catalog.file(ALICE, "b").owner);
    assertSame(node(a, "n1"), node(b, "n1"));
    assertSame(node(a, "n2"), node(b, "n2"));
    assertSame(node(a, "n3"), node(c, "n3"));
  }

  static String node(BlobEntry blob, String id) {
    return blob.nodes.stream().filter(id::equals).findFirst().orElseThrow();
  }

  // ---- clients ----

  @Test
  void clientAddIsFoundByIdAndTokenHash() {
    JsonObject result = apply(clientAdd(ALICE, "alice"));
    assertEquals(ALICE, result.getString("clientId"));
    assertEquals("alice", result.getString("nickname"));
    assertFalse(result.containsKey("tokenHash"), "the token hash is not handed out");
    ClientEntry c = catalog.client(ALICE);
    assertEquals("alice", c.nickname());
    assertSame(c, catalog.clientByTokenHash("hash-of-" + ALICE));
    assertNull(catalog.clientByTokenHash("nope"));
    assertNull(catalog.client("nope"));
    assertEquals(1, catalog.clients().size());
  }

  @Test
  void unknownOperationIsRejected() {
    assertThrows(IllegalArgumentException.class, () -> apply(new JsonObject().put("op", "file.rename")));
  }

  @Test
  void lamportFollowsTheOperations() {
    apply(new JsonObject().put("op", Catalog.OP_CLIENT_ADD).put("clientId", "x").put("tokenHash", "h").put("lamport", 42L));
    assertEquals(42, catalog.lamport());
    apply(new JsonObject().put("op", Catalog.OP_CLIENT_ADD).put("clientId", "y").put("tokenHash", "h2").put("lamport", 7L));
    assertEquals(42, catalog.lamport(), "never goes backwards");
    assertEquals(43, catalog.tick());
    assertEquals(43, catalog.lamport());
  }

  // ---- files ----

  @Test
  void putCreatesFileAndBlob() {
    apply(clientAdd(ALICE, "alice"));
    JsonObject result = apply(put(ALICE, "a.txt", "blob-1", SHA_A, 100, 2, "n1", "n2"));
    assertEquals(Catalog.key(ALICE, "a.txt"), result.getString("fileKey"));
    FileEntry f = catalog.file(ALICE, "a.txt");
    assertNotNull(f);
    assertEquals("blob-1", f.blobId);
    assertEquals(1, f.version);
    assertEquals(2, f.replicas);
    BlobEntry b = catalog.blob("blob-1");
    assertEquals(SHA_A, b.sha256);
    assertEquals(100, b.size);
    assertEquals(ALICE, b.owner);
    assertEquals(List.of("n1", "n2"), List.copyOf(b.nodes));
    assertEquals(List.of(Catalog.key(ALICE, "a.txt")), keys(b.files));
    assertEquals(0, b.orphanedAt);
    assertSame(b, catalog.contentOf(ALICE, SHA_A));
    assertEquals(1, catalog.fileCount());
    assertEquals(1, catalog.files(ALICE).size());
    assertTrue(catalog.files(BOB).isEmpty());
  }

  @Test
  void versionsIncrementOnEveryPutOfTheSameName() {
    apply(put(ALICE, "a.txt", "blob-1", SHA_A, 100, 2, "n1"));
    apply(dedup(ALICE, "a.txt", "blob-1", SHA_A, 100, 2)); // same content again
    assertEquals(2, catalog.file(ALICE, "a.txt").version);
    assertEquals(0, catalog.blob("blob-1").orphanedAt, "same content again does not release the blob");
    apply(put(ALICE, "a.txt", "blob-2", SHA_B, 200, 2, "n2"));
    assertEquals(3, catalog.file(ALICE, "a.txt").version);
    apply(put(ALICE, "a.txt", "blob-3", SHA_C, 300, 2, "n3"));
    assertEquals(4, catalog.file(ALICE, "a.txt").version);
    assertEquals(1, catalog.fileCount());
  }

  @Test
  void versionsAreCountedPerName() {
    apply(put(ALICE, "a.txt", "blob-1", SHA_A, 100, 2, "n1"));
    apply(put(ALICE, "a.txt", "blob-2", SHA_B, 100, 2, "n1"));
    apply(put(ALICE, "b.txt", "blob-3", SHA_C, 100, 2, "n1"));
    assertEquals(2, catalog.file(ALICE, "a.txt").version);
    assertEquals(1, catalog.file(ALICE, "b.txt").version);
  }

  @Test
  void replacingContentReleasesTheOldBlob() {
    apply(put(ALICE, "a.txt", "blob-1", SHA_A, 100, 2, "n1", "n2"));
    JsonObject replace = put(ALICE, "a.txt", "blob-2", SHA_B, 200, 2, "n2", "n3");
    apply(replace);
    FileEntry f = catalog.file(ALICE, "a.txt");
    assertEquals("blob-2", f.blobId);
    BlobEntry old = catalog.blob("blob-1");
    assertNotNull(old, "kept until garbage collection");
    assertTrue(old.files.isEmpty());
    assertEquals(replace.getLong("ts"), old.orphanedAt, "orphaned at the time of the replacing operation");
    assertNull(catalog.contentOf(ALICE, SHA_A), "old content is no longer offered for dedup");
    assertSame(catalog.blob("blob-2"), catalog.contentOf(ALICE, SHA_B));
    assertEquals(200, catalog.blob("blob-2").size);
    assertEquals(List.of(Catalog.key(ALICE, "a.txt")), keys(catalog.blob("blob-2").files));
  }

  @Test
  void sameContentForTwoNamesSharesOneBlob() {
    apply(put(ALICE, "a.txt", "blob-1", SHA_A, 100, 2, "n1", "n2"));
    apply(dedup(ALICE, "copy.txt", "blob-1", SHA_A, 100, 3));
    BlobEntry b = catalog.blob("blob-1");
    assertEquals(2, b.files.size());
    assertEquals("blob-1", catalog.file(ALICE, "copy.txt").blobId);
    assertEquals(1, catalog.file(ALICE, "copy.txt").version);
    assertEquals(1, catalog.blobs().size());
    assertEquals(3, catalog.desiredReplicas(b));

    apply(delete(ALICE, "a.txt"));
    assertEquals(0, b.orphanedAt, "still used by copy.txt");
    assertSame(b, catalog.contentOf(ALICE, SHA_A));
    assertEquals(List.of(Catalog.key(ALICE, "copy.txt")), keys(b.files));

    apply(delete(ALICE, "copy.txt"));
    assertTrue(b.files.isEmpty());
    assertTrue(b.orphanedAt > 0);
    assertNull(catalog.contentOf(ALICE, SHA_A));
  }

  @Test
  void replacingOneOfTwoNamesSharingABlobKeepsItForTheOther() {
    apply(put(ALICE, "a.txt", "blob-1", SHA_A, 100, 2, "n1"));
    apply(dedup(ALICE, "copy.txt", "blob-1", SHA_A, 100, 2));
    apply(put(ALICE, "a.txt", "blob-2", SHA_B, 100, 2, "n1"));
    BlobEntry b1 = catalog.blob("blob-1");
    assertEquals(0, b1.orphanedAt);
    assertEquals(List.of(Catalog.key(ALICE, "copy.txt")), keys(b1.files));
    assertSame(b1, catalog.contentOf(ALICE, SHA_A));
  }

  @Test
  void contentIsNeverSharedAcrossOwners() {
    apply(put(ALICE, "a.txt", "blob-1", SHA_A, 100, 2, "n1"));
    assertNull(catalog.contentOf(BOB, SHA_A));
    apply(put(BOB, "a.txt", "blob-2", SHA_A, 100, 2, "n1"));
    assertEquals("blob-1", catalog.contentOf(ALICE, SHA_A).blobId);
    assertEquals("blob-2", catalog.contentOf(BOB, SHA_A).blobId);
    assertEquals(1, catalog.file(BOB, "a.txt").version);
    apply(delete(BOB, "a.txt"));
    assertNotNull(catalog.file(ALICE, "a.txt"), "bob's delete does not touch alice's file of the same name");
    assertEquals("blob-1", catalog.contentOf(ALICE, SHA_A).blobId);
  }

  @Test
  void deleteRemovesTheFileAndReleasesTheBlob() {
    apply(put(ALICE, "a.txt", "blob-1", SHA_A, 100, 2, "n1"));
    JsonObject del = delete(ALICE, "a.txt");
    JsonObject result = apply(del);
    assertTrue(result.getBoolean("deleted"));
    assertEquals("blob-1", result.getString("blobId"));
    assertNull(catalog.file(ALICE, "a.txt"));
    assertEquals(0, catalog.fileCount());
    assertEquals(del.getLong("ts"), catalog.blob("blob-1").orphanedAt);
    assertNull(catalog.contentOf(ALICE, SHA_A));
  }

  @Test
  void deleteOfAMissingFileIsANoOp() {
    apply(put(ALICE, "a.txt", "blob-1", SHA_A, 100, 2, "n1"));
    assertEquals(new JsonObject().put("deleted", false), apply(delete(ALICE, "nope.txt")));
    assertEquals(new JsonObject().put("deleted", false), apply(delete(BOB, "a.txt")), "unknown owner");
    assertEquals(new JsonObject().put("deleted", false), apply(delete("nobody", "x")));
    assertEquals(1, catalog.fileCount());
    assertEquals(0, catalog.blob("blob-1").orphanedAt);
    apply(delete(ALICE, "a.txt"));
    assertFalse(apply(delete(ALICE, "a.txt")).getBoolean("deleted"), "second delete is a no-op");
  }

  @Test
  void putAfterDeleteStartsAgainAtVersionOne() {
    apply(put(ALICE, "a.txt", "blob-1", SHA_A, 100, 2, "n1"));
    apply(put(ALICE, "a.txt", "blob-2", SHA_B, 100, 2, "n1"));
    apply(delete(ALICE, "a.txt"));
    apply(put(ALICE, "a.txt", "blob-3", SHA_C, 100, 2, "n1"));
    assertEquals(1, catalog.file(ALICE, "a.txt").version);
  }

  @Test
  void fileReplicasChangesTheDesiredCount() {
    apply(put(ALICE, "a.txt", "blob-1", SHA_A, 100, 2, "n1", "n2"));
    assertTrue(apply(replicas(ALICE, "a.txt", 4)).getBoolean("updated"));
    assertEquals(4, catalog.file(ALICE, "a.txt").replicas);
    assertEquals(1, catalog.file(ALICE, "a.txt").version, "a replica change is not a new version");
    assertFalse(apply(replicas(ALICE, "nope", 4)).getBoolean("updated"));
    assertFalse(apply(replicas(BOB, "a.txt", 4)).getBoolean("updated"));
  }

  @Test
  void desiredReplicasIsTheMaximumOverTheBlobsFiles() {
    apply(put(ALICE, "a.txt", "blob-1", SHA_A, 100, 2, "n1", "n2"));
    apply(dedup(ALICE, "b.txt", "blob-1", SHA_A, 100, 1));
    apply(dedup(ALICE, "c.txt", "blob-1", SHA_A, 100, 3));
    BlobEntry b = catalog.blob("blob-1");
    assertEquals(3, catalog.desiredReplicas(b));
    apply(replicas(ALICE, "c.txt", 1));
    assertEquals(2, catalog.desiredReplicas(b));
    apply(replicas(ALICE, "b.txt", 5));
    assertEquals(5, catalog.desiredReplicas(b));
    apply(delete(ALICE, "b.txt"));
    assertEquals(2, catalog.desiredReplicas(b));
    apply(delete(ALICE, "a.txt"));
    apply(delete(ALICE, "c.txt"));
    assertEquals(0, catalog.desiredReplicas(b), "an unused blob wants no replicas");
  }

  @Test
  void blobNodesAddsAndRemoves() {
    apply(put(ALICE, "a.txt", "blob-1", SHA_A, 100, 2, "n1", "n2"));
    assertTrue(apply(blobNodes("blob-1", List.of("n3"), List.of("n1"))).getBoolean("updated"));
    assertEquals(List.of("n2", "n3"), List.copyOf(catalog.blob("blob-1").nodes));
    apply(blobNodes("blob-1", List.of("n3"), List.of("n9"))); // idempotent add, removal of a non-holder
    assertEquals(List.of("n2", "n3"), List.copyOf(catalog.blob("blob-1").nodes));
    assertFalse(apply(blobNodes("no-such-blob", List.of("n1"), List.of())).getBoolean("updated"));
    assertNull(catalog.blob("no-such-blob"), "blob.nodes never creates a blob");
  }

  @Test
  void putWithNodesAddsToAnExistingBlob() {
    apply(put(ALICE, "a.txt", "blob-1", SHA_A, 100, 2, "n1"));
    apply(put(ALICE, "a.txt", "blob-1", SHA_A, 100, 2, "n2"));
    assertEquals(List.of("n1", "n2"), List.copyOf(catalog.blob("blob-1").nodes));
    assertEquals(1, catalog.blob("blob-1").files.size());
  }

  @Test
  void blobDropOnlyWhenUnused() {
    apply(put(ALICE, "a.txt", "blob-1", SHA_A, 100, 2, "n1"));
    assertFalse(apply(drop("blob-1")).getBoolean("dropped"));
    assertNotNull(catalog.blob("blob-1"));
    assertNotNull(catalog.file(ALICE, "a.txt"));

    apply(put(ALICE, "a.txt", "blob-2", SHA_B, 100, 2, "n1"));
    assertTrue(apply(drop("blob-1")).getBoolean("dropped"));
    assertNull(catalog.blob("blob-1"));
    assertFalse(apply(drop("blob-1")).getBoolean("dropped"), "dropping twice");
    assertFalse(apply(drop("never-existed")).getBoolean("dropped"));
    assertSame(catalog.blob("blob-2"), catalog.contentOf(ALICE, SHA_B), "dropping the old blob keeps the new content");
    assertEquals(1, catalog.blobs().size());
  }

  @Test
  void aDroppedBlobIsRememberedAlsoThroughSnapshotsAndOneStillInUseIsNot() {
    apply(put(ALICE, "a.txt", "blob-1", SHA_A, 100, 2, "n1"));
    apply(drop("blob-1"));
    assertFalse(catalog.wasDropped("blob-1"), "still in use: not dropped");
    apply(delete(ALICE, "a.txt"));
    apply(drop("blob-1"));
    assertTrue(catalog.wasDropped("blob-1"));
    assertFalse(catalog.wasDropped("blob-2"));
    assertTrue(replay(catalog).wasDropped("blob-1"), "a catalog copied from a snapshot remembers the drop");
    assertTrue(replay(replay(catalog)).wasDropped("blob-1"), "and so does one copied from that copy");
  }

  @Test
  void dropsAreForgottenOnceOlderThanTheWindowOrBeyondTheCap() {
    long t = 5_000_000L;
    apply(drop("blob-old").put("ts", t));
    apply(drop("blob-new").put("ts", t + Catalog.DROPPED_KEPT_MS));
    assertTrue(catalog.wasDropped("blob-old"), "exactly as old as the window: kept");
    apply(drop("blob-newer").put("ts", t + Catalog.DROPPED_KEPT_MS + 1));
    assertFalse(catalog.wasDropped("blob-old"), "older than the window, timed by the operations");
    assertTrue(catalog.wasDropped("blob-new"));

    for (int i = 0; i < Catalog.DROPPED_KEPT_MAX; i++) {
      catalog.apply(drop("burst-" + i).put("ts", t + Catalog.DROPPED_KEPT_MS + 2));
    }
    assertFalse(catalog.wasDropped("blob-new"), "the oldest go first beyond the cap");
    assertFalse(catalog.wasDropped("blob-newer"));
    assertTrue(catalog.wasDropped("burst-0"));
    assertTrue(catalog.wasDropped("burst-" + (Catalog.DROPPED_KEPT_MAX - 1)));
    assertFalse(catalog.wasDropped("none"));
  }

  @Test
  void droppingAnOrphanDoesNotForgetANewerBlobOfTheSameContent() {
    apply(put(ALICE, "a.txt", "blob-1", SHA_A, 100, 2, "n1"));
    apply(delete(ALICE, "a.txt"));
    apply(put(ALICE, "a.txt", "blob-2", SHA_A, 100, 2, "n2")); // same content, uploaded again as a new blob
    apply(drop("blob-1"));
    assertEquals("blob-2", catalog.contentOf(ALICE, SHA_A).blobId);
  }

  @Test
  void orphansListsExactlyTheUnusedBlobs() {
    apply(put(ALICE, "a.txt", "blob-1", SHA_A, 100, 2, "n1"));
    apply(put(ALICE, "b.txt", "blob-2", SHA_B, 100, 2, "n1"));
    apply(delete(ALICE, "a.txt"));
    List<BlobEntry> orphans = catalog.orphans();
    assertEquals(1, orphans.size());
    assertEquals("blob-1", orphans.get(0).blobId);
    // Taken back into use: no longer an orphan. Dropped: gone.
    apply(put(ALICE, "c.txt", "blob-1", SHA_A, 100, 2));
    assertTrue(catalog.orphans().isEmpty());
    apply(delete(ALICE, "c.txt"));
    apply(drop("blob-1"));
    assertTrue(catalog.orphans().isEmpty());
    assertNull(catalog.blob("blob-1"));
  }

  @Test
  void reusingAnOrphanedBlobMakesItTheContentOfRecordAgain() {
    // A dedup commit racing a delete: the delete of the only file is applied first, then the dedup put that
    // was admitted (contentOf found the blob) while the delete was still being journaled.
    apply(put(ALICE, "a.txt", "blob-1", SHA_A, 100, 2, "n1"));
    apply(delete(ALICE, "a.txt"));
    apply(dedup(ALICE, "b.txt", "blob-1", SHA_A, 100, 2));
    BlobEntry b = catalog.blob("blob-1");
    assertEquals(0, b.orphanedAt, "in use again");
    assertEquals(1, b.files.size());
    Catalog replayed = replay(catalog);
    assertSame(replayed.blob("blob-1"), replayed.contentOf(ALICE, SHA_A), "after a snapshot replay");
    assertSame(b, catalog.contentOf(ALICE, SHA_A), "the live catalog must agree with its snapshot");
  }

  // ---- snapshot ----

  static Catalog replay(Catalog source) {
    Catalog fresh = new Catalog();
    // through text, as in snapshot.jsonl
    source.toOps().forEach(op -> fresh.apply(new JsonObject(op.encode())));
    return fresh;
  }

  /** Everything observable about a catalog, in a stable order. */
  static JsonObject describe(Catalog c) {
    JsonObject out = new JsonObject();
    JsonArray clients = new JsonArray();
    c.clients().stream().sorted(Comparator.comparing(ClientEntry::clientId)).forEach(e -> clients.add(
        new JsonObject().put("id", e.clientId()).put("nickname", e.nickname()).put("tokenHash", e.tokenHash())
            .put("at", e.createdAt()).put("byHash", c.clientByTokenHash(e.tokenHash()).clientId())));
    out.put("clients", clients);
    Map<String, JsonArray> files = new TreeMap<>();
    for (FileEntry f : c.allFiles()) {
      files.computeIfAbsent(f.owner, o -> new JsonArray());
    }
    for (String owner : files.keySet()) {
      for (FileEntry f : c.files(owner)) { // in name order
        BlobEntry b = c.blob(f.blobId);
        files.get(owner).add(new JsonObject().put("name", f.name).put("version", f.version).put("blobId", f.blobId)
            .put("replicas", f.replicas).put("depositedAt", f.depositedAt()).put("lamport", f.lamport)
            .put("sha256", b.sha256).put("size", b.size).put("nodes", new JsonArray(new ArrayList<>(b.nodes))));
      }
    }
    JsonObject byOwner = new JsonObject();
    files.forEach(byOwner::put);
    out.put("files", byOwner);
    JsonArray blobs = new JsonArray();
    c.blobs().stream().sorted(Comparator.comparing((BlobEntry b) -> b.blobId)).forEach(b -> blobs.add(new JsonObject()
        .put("blobId", b.blobId).put("owner", b.owner).put("sha256", b.sha256).put("size", b.size)
        .put("nodes", new JsonArray(new ArrayList<>(b.nodes)))
        .put("files", new JsonArray(b.files.stream().map(FileEntry::key).sorted().toList()))
        .put("orphanedAt", b.orphanedAt).put("desired", c.desiredReplicas(b))
        .put("contentOfRecord", c.contentOf(b.owner, b.sha256) == b)));
    out.put("blobs", blobs);
    out.put("fileCount", c.fileCount());
    out.put("lamport", c.lamport());
    return out;
  }

  void buildBusyCatalog() {
    apply(clientAdd(ALICE, "alice"));
    apply(clientAdd(BOB, "bob"));
    apply(clientAdd("c-carol", "carol")); // no files
    apply(put(ALICE, "a.txt", "blob-1", SHA_A, 100, 2, "n1", "n2"));
    apply(dedup(ALICE, "copy of a.txt", "blob-1", SHA_A, 100, 3));
    apply(put(ALICE, "report.pdf", "blob-2", SHA_B, 2000, 2, "n2", "n3"));
    apply(put(ALICE, "report.pdf", "blob-3", SHA_C, 3000, 2, "n1", "n3")); // v2; blob-2 orphaned
    apply(dedup(ALICE, "report.pdf", "blob-3", SHA_C, 3000, 2)); // v3
    apply(put(ALICE, "gone.txt", "blob-4", "d".repeat(64), 10, 1, "n1"));
    apply(delete(ALICE, "gone.txt")); // blob-4 orphaned
    apply(put(ALICE, "dropped.txt", "blob-5", "e".repeat(64), 10, 1, "n2"));
    apply(delete(ALICE, "dropped.txt"));
    apply(drop("blob-5"));
    apply(put(BOB, "a.txt", "blob-6", SHA_A, 100, 1, "n3"));
    apply(put(BOB, "日本語 ü.txt", "blob-7", SHA_B, 5, 1, "n1"));
    apply(replicas(BOB, "a.txt", 3));
    apply(blobNodes("blob-6", List.of("n1", "n2"), List.of()));
    apply(blobNodes("blob-1", List.of("n3"), List.of("n1")));
    // an op from a peer with a timestamp far ahead: the clock jumps past it
    apply(stamp(new JsonObject().put("op", Catalog.OP_BLOB_NODES).put("blobId", "none")).put("lamport", 500L));
  }

  @Test
  void toOpsReplayedIntoAFreshCatalogGivesTheSameState() {
    buildBusyCatalog();
    JsonObject before = describe(catalog);
    Catalog replayed = replay(catalog);
    assertEquals(before, describe(replayed));
    // sanity: the description is not trivially empty
    assertEquals(5, before.getInteger("fileCount"));
    assertEquals(3, before.getJsonArray("clients").size());
    assertEquals(500, before.getLong("lamport"));
    assertEquals(3, replayed.file(ALICE, "report.pdf").version);
    assertNull(replayed.file(ALICE, "gone.txt"));
    assertNull(replayed.blob("blob-5"));
    assertTrue(replayed.blob("blob-4").orphanedAt > 0, "orphans survive a snapshot so their replicas get deleted");
    assertTrue(replayed.blob("blob-2").orphanedAt > 0);
  }

  @Test
  void toOpsIsStableUnderRepeatedSnapshots() {
    buildBusyCatalog();
    Catalog once = replay(catalog);
    Catalog twice = replay(once);
    assertEquals(describe(catalog), describe(twice));
  }

  @Test
  void replayedCatalogEvolvesLikeTheOriginal() {
    buildBusyCatalog();
    Catalog replayed = replay(catalog);
    List<JsonObject> more = List.of(
        dedup(ALICE, "report.pdf", "blob-3", SHA_C, 3000, 2),           // v4
        put(ALICE, "a.txt", "blob-8", "f".repeat(64), 1, 2, "n1"),        // a.txt v2, blob-1 still has the copy
        delete(ALICE, "copy of a.txt"),                                  // blob-1 orphaned now
        drop("blob-2"),
        drop("blob-3"),                                                  // in use: not dropped
        delete(BOB, "a.txt"));
    for (JsonObject op : more) {
      assertEquals(catalog.apply(op.copy()), replayed.apply(op.copy()), op.encode());
    }
    assertEquals(describe(catalog), describe(replayed));
    assertEquals(4, replayed.file(ALICE, "report.pdf").version);
    assertEquals(2, replayed.file(ALICE, "a.txt").version);
  }

  @Test
  void journalReplayOfTheSameOpsGivesTheSameState() {
    recording = new ArrayList<>();
    buildBusyCatalog();
    Catalog fromJournal = new Catalog();
    recording.forEach(line -> fromJournal.apply(new JsonObject(line)));
    assertEquals(describe(catalog), describe(fromJournal));
  }

  /** When set, every applied op is kept as its journal line. */
  List<String> recording;

  /** The files a blob serves, by their "owner/name" keys. */
  static List<String> keys(java.util.Set<FileEntry> files) {
    return files.stream().map(FileEntry::key).toList();
  }
}
