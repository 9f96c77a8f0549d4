package depot.coordinator;

import depot.node.BatchQueue;
import depot.node.ZeroFilledTail;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * The catalog's write-ahead journal: one JSON operation per line, fsynced before anything is
 * acknowledged. Appends arriving while a sync is in progress are written and synced together (group
 * commit), which is what lets thousands of small deposits per second share a few fsyncs.
 * On open, the snapshot and journal are replayed and folded into a fresh snapshot. Zeros are kept written
 * ahead of the journal's end ({@link ZeroFilledTail}); a replay stops at the first.
 */
public final class CatalogJournal {
  private static final Logger log = LoggerFactory.getLogger(CatalogJournal.class);
  private static final String SNAPSHOT = "snapshot.jsonl";
  private static final String JOURNAL = "journal.jsonl";
  /** Zeros written ahead of the journal's end at a time: some seconds of small deposits. */
  static final long ZERO_CHUNK_BYTES = 1L << 20;

  private final Vertx vertx;
  private final Path dir;
  private FileChannel channel;
  /** How far the journal is written: its operations, then zeros ahead of the next ones. */
  private long zeroedTo;
  private final BatchQueue<Pending> queue = new BatchQueue<>();
  /**
   * Held by a batch's task from taking the queue to its sync: the context's ordered queue runs one at a time
   * already; this keeps batches whole and in order on disk even if a caller on another context queued one.
   */
  private final Object writeLock = new Object();
  /** Batch tasks queued and not yet come back; and a replacement running (appends wait for its end). */
  private int batchesOut;
  private boolean replacing;
  private long entries;
  private long syncs;

  private record Pending(String line, Promise<Void> promise) {}

  private record Written(List<Pending> batch, Throwable failure) {}

  public CatalogJournal(Vertx vertx, Path dir) {
    this.vertx = vertx;
    this.dir = dir;
  }

  /** Replays snapshot then journal into {@code apply}, writes a compacted snapshot, starts a new journal. */
  public Future<Void> open(Consumer<JsonObject> apply, java.util.function.Supplier<List<JsonObject>> dump,
                           java.util.function.LongSupplier lamport) {
    return vertx.executeBlocking(() -> {
      Files.createDirectories(dir);
      long replayed = replay(dir.resolve(SNAPSHOT), apply);
      // A crash between writing a snapshot and emptying the journal leaves operations the snapshot already
      // holds: their Lamport stamps are not above the snapshot's, so they are skipped.
      long snapshotLamport = lamport.getAsLong();
      replayed += replay(dir.resolve(JOURNAL), op -> {
        if (op.getLong("lamport", Long.MAX_VALUE) > snapshotLamport) {
          apply.accept(op);
        }
      });
      writeSnapshot(dump.get());
      channel = FileChannel.open(dir.resolve(JOURNAL), StandardOpenOption.CREATE, StandardOpenOption.WRITE,
          StandardOpenOption.TRUNCATE_EXISTING);
      fsyncDir();
      log.info("catalog replayed {} operations from {}", replayed, dir);
      return null;
    });
  }

  private long replay(Path file, Consumer<JsonObject> apply) throws IOException {
    if (!Files.exists(file)) {
      return 0;
    }
    long n = 0;
    java.nio.charset.CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder();
    try (java.io.InputStream in = new java.io.BufferedInputStream(Files.newInputStream(file), 1 << 16)) {
      java.io.ByteArrayOutputStream line = new java.io.ByteArrayOutputStream();
      int b;
      boolean more = true;
      while (more) {
        b = in.read();
        if (b == 0) {
          b = -1; // the zeros kept ahead of the end: no JSON text holds a NUL byte
        }
        if (b != -1 && b != '\n') {
          line.write(b);
          continue;
        }
        more = b != -1;
        if (line.size() == 0) {
          continue;
        }
        JsonObject op;
        try {
          op = new JsonObject(utf8.decode(ByteBuffer.wrap(line.toByteArray())).toString());
        } catch (RuntimeException | java.nio.charset.CharacterCodingException e) {
          // Only the last line can be torn (a crash mid-append); it was never acknowledged.
          log.warn("ignoring torn journal line in {}", file);
          break;
        }
        line.reset();
        apply.accept(op);
        n++;
      }
    }
    return n;
  }

  private void writeSnapshot(List<JsonObject> ops) throws IOException {
    Path tmp = dir.resolve(SNAPSHOT + ".tmp");
    try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
        StandardOpenOption.TRUNCATE_EXISTING)) {
      StringBuilder sb = new StringBuilder();
      for (JsonObject op : ops) {
        sb.append(op.encode()).append('\n');
        if (sb.length() > 1 << 20) {
          writeFully(ch, sb);
        }
      }
      writeFully(ch, sb);
      ch.force(true);
    }
    Files.move(tmp, dir.resolve(SNAPSHOT), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
  }

  private static void writeFully(FileChannel ch, StringBuilder sb) throws IOException {
    ByteBuffer bytes = ByteBuffer.wrap(sb.toString().getBytes(StandardCharsets.UTF_8));
    while (bytes.hasRemaining()) {
      ch.write(bytes);
    }
    sb.setLength(0);
  }

  private void fsyncDir() throws IOException {
    try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
      d.force(true);
    }
  }

  /** Completes once the operation is on disk. Completions happen in append order. Used from one context. */
  public Future<Void> append(JsonObject op) {
    return appendAll(List.of(op)).get(0);
  }

  /** {@link #append} for several operations, which go to disk in one batch (or with others). */
  public List<Future<Void>> appendAll(List<JsonObject> ops) {
    List<Pending> added = new ArrayList<>(ops.size());
    List<Future<Void>> done = new ArrayList<>(ops.size());
    for (JsonObject op : ops) {
      Promise<Void> p = Promise.promise();
      added.add(new Pending(op.encode(), p));
      done.add(p.future());
    }
    if (queue.addAll(added) && !replacing) {
      syncBatch();
    }
    return done;
  }

  /**
   * Queues a batch's task on this context's ordered worker queue, behind the batch being synced if there is
   * one (group commit: the task takes every operation that arrived meanwhile). The queue runs it on the same
   * worker thread as soon as that sync ends. Queued only once the previous batch had come back to the event
   * loop, each batch cost the wake-up of a parked worker thread and a round trip through the event loop.
   */
  private void syncBatch() {
    batchesOut++;
    vertx.executeBlocking(() -> {
      synchronized (writeLock) {
        List<Pending> batch = queue.take();
        long start = -1;
        try {
          start = channel.position();
          StringBuilder sb = new StringBuilder();
          for (Pending p : batch) {
            sb.append(p.line()).append('\n');
          }
          writeFully(channel, sb);
          zeroedTo = ZeroFilledTail.extend(channel, channel.position(), zeroedTo, ZERO_CHUNK_BYTES);
          channel.force(false);
          return new Written(batch, null);
        } catch (Throwable e) { // out of memory too: each operation's caller must hear of it, not wait forever
          cutBack(start);
          return new Written(batch, e);
        }
      }
    }).onSuccess(written -> {
      batchesOut--;
      entries += written.batch().size();
      syncs++;
      for (Pending p : written.batch()) {
        if (written.failure() == null) {
          p.promise().complete();
        } else {
          p.promise().fail(written.failure());
        }
      }
      if (written.failure() != null) {
        log.error("catalog journal write failed: {}", written.failure().getMessage());
      }
    });
  }

  /**
   * After a failed batch: nothing of it stays, or a half-written line would sit before the next batch's and
   * end every later replay there (only a last line may be torn). If even the cut fails, the disk is failing:
   * it is logged.
   */
  private void cutBack(long start) {
    if (start < 0) {
      return;
    }
    try {
      channel.truncate(start);
      channel.position(start);
      zeroedTo = start;
    } catch (IOException e) {
      log.error("catalog journal could not cut a failed batch off: {}", e.getMessage());
    }
  }

  /**
   * Replaces the whole journal with {@code ops} (a snapshot from another replica). Only while nothing is
   * being appended: a follower rebuilding, or a coordinator before it leads.
   */
  public Future<Void> replaceWith(List<JsonObject> ops) {
    if (replacing || batchesOut > 0 || queue.batchQueued()) {
      return Future.failedFuture(new IllegalStateException("journal busy"));
    }
    replacing = true;
    return vertx.<Void>executeBlocking(() -> {
      writeSnapshot(ops);
      channel.truncate(0);
      channel.position(0);
      zeroedTo = 0;
      channel.force(true);
      fsyncDir();
      return null;
    }).andThen(ar -> {
      replacing = false;
      if (queue.batchQueued()) {
        syncBatch();
      }
    });
  }

  /** Blocking: reads the journal's current state into a fresh catalog (to serve it to a new leader). */
  public Catalog load() throws IOException {
    Catalog copy = new Catalog();
    replay(dir.resolve(SNAPSHOT), copy::apply);
    long snapshotLamport = copy.appliedLamport();
    replay(dir.resolve(JOURNAL), op -> {
      if (op.getLong("lamport", Long.MAX_VALUE) > snapshotLamport) {
        copy.apply(op);
      }
    });
    return copy;
  }

  /** Batches written since open: one fsync each (a failed one included, though its sync may not have run). */
  public long syncs() {
    return syncs;
  }

  public long entries() {
    return entries;
  }

  public Future<Void> close() {
    if (channel == null) {
      return Future.succeededFuture();
    }
    return vertx.executeBlocking(() -> {
      channel.close();
      return null;
    });
  }
}
