package depot.coordinator;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

import static depot.coordinator.CatalogTest.describe;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The journal with a plain Vert.x; everything touching the journal or catalog runs on one event-loop context. */
class CatalogJournalTest {
  @TempDir
  Path dir;
  Vertx vertx;
  Context context;

  /** A coordinator in miniature: the catalog and its journal, confined to {@link #context}. */
  final class Store {
    final Catalog catalog = new Catalog();
    final CatalogJournal journal = new CatalogJournal(vertx, dir);

    Future<JsonObject> commit(JsonObject op) {
      op.put("lamport", catalog.tick()).put("ts", 1_000_000L + catalog.lamport());
      return journal.append(op).map(v -> catalog.apply(op));
    }
  }

  @BeforeEach
  void up() {
    vertx = Vertx.vertx();
    context = vertx.getOrCreateContext();
  }

  @AfterEach
  void down() throws Exception {
    await(vertx.close());
  }

  static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
  }

  /** Runs {@code work} on the context and waits for the future it returns. */
  <T> T onContext(Callable<Future<T>> work) throws Exception {
    Promise<T> p = Promise.promise();
    context.runOnContext(v -> {
      try {
        work.call().onComplete(p);
      } catch (Exception e) {
        p.fail(e);
      }
    });
    return await(p.future());
  }

  Store open() throws Exception {
    Store s = new Store();
    onContext(() -> s.journal.open(s.catalog::apply, s.catalog::toOps, s.catalog::lamport));
    return s;
  }

  void close(Store s) throws Exception {
    onContext(s.journal::close);
  }

  static JsonObject clientAdd(int i) {
    return new JsonObject().put("op", Catalog.OP_CLIENT_ADD).put("clientId", "client-" + i).put("nickname", "n" + i)
        .put("tokenHash", "h" + i).put("at", "t");
  }

  static JsonObject put(String owner, String name, String blobId, String sha, long size) {
    return new JsonObject().put("op", Catalog.OP_FILE_PUT).put("owner", owner).put("name", name).put("blobId", blobId)
        .put("sha256", sha).put("size", size).put("replicas", 2).put("nodes", new io.vertx.core.json.JsonArray().add("n1"))
        .put("at", "2024-01-01T00:00:00Z");
  }

  /** Where the journal's text ends: the zeros written ahead of it start there. */
  static long end(Path file) throws Exception {
    byte[] bytes = Files.readAllBytes(file);
    int end = 0;
    while (end < bytes.length && bytes[end] != 0) {
      end++;
    }
    return end;
  }

  /** Writes {@code bytes} where the journal's text ends, over its zeros, as an append cut short by a crash. */
  static void writeAtEnd(Path file, byte[] bytes) throws Exception {
    try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(file, StandardOpenOption.WRITE)) {
      ch.write(java.nio.ByteBuffer.wrap(bytes), end(file));
    }
  }

  static List<String> lines(Path file) throws Exception {
    if (!Files.exists(file)) {
      return List.of();
    }
    List<String> out = new ArrayList<>();
    String text = new String(Files.readAllBytes(file), 0, (int) end(file), StandardCharsets.UTF_8);
    for (String l : text.split("\n")) {
      if (!l.isBlank()) {
        out.add(l);
      }
    }
    return out;
  }

  /** {@code n} deposits arriving in bursts, some while a sync is running: returns the completion order. */
  List<Integer> appendConcurrently(Store s, int n) throws Exception {
    return appendConcurrently(s, n, i -> { });
  }

  /** {@code onCompleted} runs on the context as each operation's append completes, in that order. */
  List<Integer> appendConcurrently(Store s, int n, java.util.function.IntConsumer onCompleted) throws Exception {
    List<Integer> completed = Collections.synchronizedList(new ArrayList<>());
    Promise<Void> all = Promise.promise();
    context.runOnContext(v -> {
      List<Future<JsonObject>> futures = new ArrayList<>();
      int[] next = {0};
      // first burst now, the rest from timers so they land while earlier batches are being synced
      Runnable burst = () -> {
        int until = Math.min(n, next[0] + 150);
        for (; next[0] < until; next[0]++) {
          int i = next[0];
          JsonObject op = i % 5 == 0 ? clientAdd(i)
              : put("owner-" + (i % 7), "file-" + (i % 300), "blob-" + i, String.format("%064x", i), i);
          futures.add(s.commit(op).onSuccess(r -> {
            completed.add(i);
            onCompleted.accept(i);
          }));
        }
      };
      burst.run();
      long[] timer = new long[1];
      timer[0] = vertx.setPeriodic(1, id -> {
        burst.run();
        if (next[0] >= n) {
          vertx.cancelTimer(timer[0]);
          Future.all(futures).<Void>mapEmpty().onComplete(all);
        }
      });
    });
    await(all.future());
    return completed;
  }

  @Test
  void manyConcurrentAppendsAllCompleteInOrder() throws Exception {
    Store s = open();
    int n = 2000;
    List<Integer> completed = appendConcurrently(s, n);
    assertEquals(n, completed.size());
    for (int i = 0; i < n; i++) {
      assertEquals(i, completed.get(i), "completion order at " + i);
    }
    assertEquals(n, s.journal.entries());
    // every op is on disk, in order, before anyone was told
    List<String> journal = lines(dir.resolve("journal.jsonl"));
    assertEquals(n, journal.size());
    for (int i = 0; i < n; i++) {
      assertEquals(i + 1, new JsonObject(journal.get(i)).getLong("lamport"), "journal line " + i);
    }
    assertEquals(n - n / 5, countPuts(journal));
    close(s);
  }

  @Test
  void operationsAppendedTogetherAreSyncedInOneBatch() throws Exception {
    Store s = open();
    List<JsonObject> ops = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      ops.add(clientAdd(i).put("lamport", i + 1L).put("ts", 1_000_000L));
    }
    long before = s.journal.syncs();
    onContext(() -> Future.all(s.journal.appendAll(ops)));
    assertEquals(1, s.journal.syncs() - before, "one fsync for the five");
    List<String> journal = lines(dir.resolve("journal.jsonl"));
    assertEquals(List.of(1L, 2L, 3L, 4L, 5L), journal.stream().map(l -> new JsonObject(l).getLong("lamport")).toList());
    close(s);
  }

  @Test
  void eachOperationIsInTheFileWhenItsAppendCompletes() throws Exception {
    // The next batch is queued behind the one being synced and takes what arrived meanwhile: an operation
    // is acknowledged only with its own batch, never with an earlier one.
    Store s = open();
    int n = 600;
    List<String> early = Collections.synchronizedList(new ArrayList<>());
    appendConcurrently(s, n, i -> {
      try {
        int onDisk = lines(dir.resolve("journal.jsonl")).size();
        if (onDisk < i + 1) {
          early.add("operation " + i + " completed with " + onDisk + " lines in the file");
        }
      } catch (Exception e) {
        early.add(e.toString());
      }
    });
    assertEquals(List.of(), early);
    assertEquals(n, lines(dir.resolve("journal.jsonl")).size());
    close(s);
  }

  private static long countPuts(List<String> journal) {
    return journal.stream().filter(l -> new JsonObject(l).getString("op").equals(Catalog.OP_FILE_PUT)).count();
  }

  @Test
  void reopenReplaysToTheSameState() throws Exception {
    Store s = open();
    appendConcurrently(s, 2000);
    JsonObject before = describe(s.catalog);
    close(s);

    Store again = open();
    assertEquals(before, describe(again.catalog));
    assertEquals(0, again.journal.entries());
    // versions were bumped by replay exactly as live: file-0..file-299 of the owners got several puts
    FileEntry f = again.catalog.file("owner-1", "file-1");
    assertNotNull(f);
    assertEquals(s.catalog.file("owner-1", "file-1").version, f.version);
    close(again);

    // and once more: snapshot only (journal empty), still the same
    Store third = open();
    assertEquals(before, describe(third.catalog));
    close(third);
  }

  @Test
  void openCompactsIntoASnapshotAndStartsAnEmptyJournal() throws Exception {
    Store s = open();
    assertTrue(Files.exists(dir.resolve("snapshot.jsonl")), "an empty catalog still gets a snapshot");
    assertEquals(0, Files.size(dir.resolve("journal.jsonl")));
    onContext(() -> s.commit(clientAdd(1)));
    onContext(() -> s.commit(put("client-1", "a.txt", "blob-a", "a".repeat(64), 10)));
    onContext(() -> s.commit(put("client-1", "a.txt", "blob-b", "b".repeat(64), 20)));
    onContext(() -> s.commit(new JsonObject().put("op", Catalog.OP_FILE_DELETE).put("owner", "client-1").put("name", "gone")));
    assertEquals(4, lines(dir.resolve("journal.jsonl")).size());
    JsonObject before = describe(s.catalog);
    close(s);

    Store again = open();
    assertTrue(Files.exists(dir.resolve("snapshot.jsonl")));
    assertEquals(0, Files.size(dir.resolve("journal.jsonl")), "the journal was folded into the snapshot");
    assertFalse(Files.exists(dir.resolve("snapshot.jsonl.tmp")));
    assertEquals(before, describe(again.catalog));
    assertEquals(2, again.catalog.file("client-1", "a.txt").version);
    List<String> snapshot = lines(dir.resolve("snapshot.jsonl"));
    assertEquals(again.catalog.toOps().size(), snapshot.size());
    close(again);
  }

  @Test
  void appendsAfterReopenContinueFromTheSnapshot() throws Exception {
    Store s = open();
    onContext(() -> s.commit(clientAdd(1)));
    onContext(() -> s.commit(put("client-1", "a.txt", "blob-a", "a".repeat(64), 10)));
    close(s);

    Store again = open();
    assertEquals(2, again.catalog.lamport());
    onContext(() -> again.commit(put("client-1", "a.txt", "blob-b", "b".repeat(64), 20)));
    assertEquals(3, again.catalog.lamport());
    JsonObject before = describe(again.catalog);
    close(again);

    Store third = open();
    assertEquals(before, describe(third.catalog));
    assertEquals(2, third.catalog.file("client-1", "a.txt").version);
    assertEquals("blob-b", third.catalog.file("client-1", "a.txt").blobId);
    assertTrue(third.catalog.blob("blob-a").orphanedAt > 0);
    close(third);
  }

  @Test
  void tornLastLineIsIgnoredOnReopen() throws Exception {
    Store s = open();
    onContext(() -> s.commit(clientAdd(1)));
    onContext(() -> s.commit(put("client-1", "a.txt", "blob-a", "a".repeat(64), 10)));
    onContext(() -> s.commit(put("client-1", "b.txt", "blob-b", "b".repeat(64), 10)));
    JsonObject before = describe(s.catalog);
    close(s);
    // a crash in the middle of the next append: half a line, no newline
    String torn = put("client-1", "c.txt", "blob-c", "c".repeat(64), 10).put("lamport", 4).encode();
    writeAtEnd(dir.resolve("journal.jsonl"), torn.substring(0, torn.length() / 2).getBytes(StandardCharsets.UTF_8));

    Store again = open();
    assertEquals(before, describe(again.catalog));
    assertNull(again.catalog.file("client-1", "c.txt"));
    assertNotNull(again.catalog.file("client-1", "b.txt"));
    assertEquals(0, Files.size(dir.resolve("journal.jsonl")), "the torn tail is gone after compaction");
    // and the journal works on
    onContext(() -> again.commit(put("client-1", "c.txt", "blob-c", "c".repeat(64), 10)));
    JsonObject after = describe(again.catalog);
    close(again);
    Store third = open();
    assertEquals(after, describe(third.catalog));
    assertNotNull(third.catalog.file("client-1", "c.txt"));
    close(third);
  }

  @Test
  void tornLineCutInsideAMultiByteCharacterIsIgnored() throws Exception {
    // File names are Unicode: a crash can cut the last line in the middle of a UTF-8 sequence.
    Store s = open();
    onContext(() -> s.commit(clientAdd(7)));
    onContext(() -> s.commit(put("client-7", "first.txt", "blob-1", "1".repeat(64), 1)));
    JsonObject before = describe(s.catalog);
    close(s);
    byte[] line = put("client-7", "日本語のファイル.txt", "blob-2", "2".repeat(64), 2).put("lamport", 3).encode()
        .getBytes(StandardCharsets.UTF_8);
    int cut = -1;
    for (int i = 0; i < line.length; i++) {
      if ((line[i] & 0xE0) == 0xE0) { // first byte of a 3-byte character
        cut = i + 1; // keep only its first byte
        break;
      }
    }
    assertTrue(cut > 0, "the encoded line has a multi-byte character");
    writeAtEnd(dir.resolve("journal.jsonl"), java.util.Arrays.copyOf(line, cut));

    Store again = open();
    assertEquals(before, describe(again.catalog));
    assertNotNull(again.catalog.file("client-7", "first.txt"));
    close(again);
  }

  @Test
  void zerosAreKeptWrittenAheadOfTheJournalsEnd() throws Exception {
    // Synced over zeros already on disk, an append changes no metadata (ZeroFilledTail).
    Store s = open();
    onContext(() -> s.commit(clientAdd(9)));
    Path journal = dir.resolve("journal.jsonl");
    long text = end(journal);
    assertTrue(text > 0);
    assertEquals(text + CatalogJournal.ZERO_CHUNK_BYTES, Files.size(journal), "zeros ahead of the end");
    onContext(() -> s.commit(put("client-9", "a.txt", "blob-a", "a".repeat(64), 10)));
    onContext(() -> s.commit(put("client-9", "b.txt", "blob-b", "b".repeat(64), 10)));
    assertEquals(3, lines(journal).size());
    assertEquals(text + CatalogJournal.ZERO_CHUNK_BYTES, Files.size(journal), "the next appends fit in the zeros");
    JsonObject before = describe(s.catalog);
    close(s);
    Store again = open();
    assertEquals(before, describe(again.catalog));
    close(again);
  }

  @Test
  void tornTailOfZeroBytesIsIgnored() throws Exception {
    // some file systems leave a zero-filled block after a crash
    Store s = open();
    onContext(() -> s.commit(clientAdd(8)));
    close(s);
    Files.write(dir.resolve("journal.jsonl"), new byte[4096], StandardOpenOption.APPEND);
    Store again = open();
    assertNotNull(again.catalog.client("client-8"));
    close(again);
  }

  @Test
  void aCrashBetweenSnapshotAndJournalTruncationDoesNotApplyOperationsTwice() throws Exception {
    // open() writes the new snapshot (atomic rename), then truncates the journal. A crash between the two
    // leaves the new snapshot beside the old journal, whose operations the snapshot already contains.
    Store s = open();
    onContext(() -> s.commit(clientAdd(1)));
    onContext(() -> s.commit(put("client-1", "a.txt", "blob-a", "a".repeat(64), 10)));
    onContext(() -> s.commit(put("client-1", "a.txt", "blob-b", "b".repeat(64), 20)));
    JsonObject before = describe(s.catalog);
    close(s);
    byte[] journal = Files.readAllBytes(dir.resolve("journal.jsonl"));

    Store compacted = open(); // snapshot now holds everything
    close(compacted);
    Files.write(dir.resolve("journal.jsonl"), journal); // ... as if the truncation never happened

    Store again = open();
    assertEquals(2, again.catalog.file("client-1", "a.txt").version, "a.txt was deposited twice, not four times");
    assertEquals(before, describe(again.catalog));
    close(again);
  }
}
