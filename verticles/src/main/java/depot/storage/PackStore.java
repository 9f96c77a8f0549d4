package depot.storage;

import depot.node.BatchQueue;
import depot.node.ZeroFilledTail;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.zip.CRC32C;

/**
 * Small replicas packed into append-only files ({@code packs/pack-NNNNNN.dat}), as Haystack and
 * SeaweedFS do: one fsync covers every small replica that arrived meanwhile (group commit), where a
 * file per replica would need three fsyncs each. Records are self-describing, so the index is rebuilt by
 * scanning at start; a torn record at the tail (a crash mid-append, never acknowledged) is cut off. Zeros
 * are kept written ahead of the current pack's end ({@link ZeroFilledTail}); the scan stops at them.
 *
 * <p>Record: magic, header length, header JSON (the manifest, or a deletion), then the bytes. Later records
 * win: packs are scanned in number order, records in file order.
 *
 * <p>Deleting a replica appends a deletion record; the bytes stay until the pack is compacted
 * ({@link #compactOne()}): a sealed pack less than half live has its live records copied forward into the
 * current pack, durably, and is then deleted. A deletion record names the pack of the replica it deletes
 * and only deletes it there, so one copied forward can never delete a newer copy of that replica.
 */
final class PackStore {
  private static final Logger log = LoggerFactory.getLogger(PackStore.class);
  private static final int MAGIC = 0x44504B31; // "DPK1"
  static final long ROLL_BYTES = 1L << 30;
  private static final int MAX_HEADER = 16 * 1024 * 1024;
  /** A pack with less than this share of its bytes live is compacted. */
  static final double COMPACT_BELOW_LIVE = 0.5;
  /** The current pack is sealed early for compaction only from this size (or a quarter of a full pack). */
  static final long COMPACT_MIN_BYTES = 64L << 20;
  /**
   * Live records are copied forward in batches of about this size: never a whole pack in memory, and a
   * deposit queued behind a batch waits for a couple of MiB to be written, not for the whole pack.
   */
  private static final int COPY_BATCH_BYTES = 2 << 20;
  /**
   * Batches are written through one direct buffer of this size, reused. Written from the heap, each record
   * was copied into a temporary direct buffer of the JDK's, which keeps up to 16 of them cached on each of
   * the 20 worker threads: a JVM with a 32 MiB heap (and so 32 MiB of direct memory) ran out of it.
   */
  private static final int WRITE_BUFFER_BYTES = 1 << 20;
  /** Zeros written ahead of the current pack's end at a time (see {@link ZeroFilledTail}). */
  static final long ZERO_CHUNK_BYTES = 4L << 20;
  /** Used by one batch at a time (batches are written in order, one after the other); made on first use. */
  private ByteBuffer writeBuffer;

  private final Vertx vertx;
  private final Path dir;
  private final long rollBytes;
  private final long compactionBytesPerSecond;
  /**
   * By blob id as a UUID: 32 bytes a key where the id's string takes 80, for an entry held per replica (three
   * per file on the dev cluster).
   */
  private final Map<UUID, Location> index = new ConcurrentHashMap<>();
  /** Per pack: its size on disk, and the bytes of the replicas in it that are still indexed. */
  private final Map<Integer, Long> packSizes = new ConcurrentHashMap<>();
  private final Map<Integer, Long> liveBytesByPack = new ConcurrentHashMap<>();
  /** Replicas whose deletion is queued but not yet durable (how many times): compaction leaves them be. */
  private final Map<String, Integer> deleting = new HashMap<>();
  /** Replicas being copied forward: a deletion waits for the copy, so it names the pack the copy lands in. */
  private final Map<String, Future<Void>> moving = new HashMap<>();
  private final BatchQueue<Pending> queue = new BatchQueue<>();
  /**
   * Held by a batch's task from taking the queue to its sync: the context's ordered queue runs one at a time
   * already; this keeps batches whole and in order on disk even if a caller on another context queued one.
   */
  private final Object writeLock = new Object();
  private boolean compacting;
  private volatile boolean sealRequested;
  private FileChannel current;
  private volatile int currentNumber;
  private long currentSize;
  /** How far the current pack is written: its records, then zeros ahead of the next ones. */
  private long zeroedTo;
  /** Batches written (each with one fsync), on the event loop. */
  private long syncs;

  /**
   * Where a packed replica is, and what its reads are checked against: the manifest's fields without the
   * storing time (only the pack needs it). Held in memory for every replica, so the SHA-256 is four longs and
   * a one-chunk replica's CRC an int, not arrays: 80 bytes an entry where the record with its two arrays took
   * 120 (and whole manifests, before that, some 300).
   */
  static final class Location {
    private final int pack;
    private final long dataOffset;
    private final long size;
    private final int chunkSize;
    private final long sha0;
    private final long sha1;
    private final long sha2;
    private final long sha3;
    /** The CRC of a one-chunk replica; with more chunks, {@link #moreCrcs} holds them all. */
    private final int crc;
    private final int[] moreCrcs;

    private Location(int pack, long dataOffset, BlobManifest m) {
      this.pack = pack;
      this.dataOffset = dataOffset;
      this.size = m.size();
      this.chunkSize = m.chunkSize();
      ByteBuffer sha = ByteBuffer.wrap(HexFormat.of().parseHex(m.sha256()));
      this.sha0 = sha.getLong();
      this.sha1 = sha.getLong();
      this.sha2 = sha.getLong();
      this.sha3 = sha.getLong();
      int[] crcs = m.crcs();
      this.crc = crcs.length == 1 ? crcs[0] : 0;
      this.moreCrcs = crcs.length == 1 ? null : crcs.clone();
    }

    static Location of(int pack, long dataOffset, BlobManifest m) {
      return new Location(pack, dataOffset, m);
    }

    int pack() {
      return pack;
    }

    long dataOffset() {
      return dataOffset;
    }

    long size() {
      return size;
    }

    BlobManifest manifest(String blobId) {
      byte[] sha = ByteBuffer.allocate(32).putLong(sha0).putLong(sha1).putLong(sha2).putLong(sha3).array();
      int[] crcs = moreCrcs == null ? new int[] {crc} : moreCrcs.clone();
      return new BlobManifest(blobId, size, HexFormat.of().formatHex(sha), chunkSize, crcs, null);
    }
  }

  /**
   * A record to append. {@code manifest}: a replica, indexed once durable ({@code movedFrom}: only if it is
   * still at that location, for a copy made by compaction). {@code deletedId}: a deletion of the replica in
   * pack {@code deletedFrom}. Neither: a deletion record carried forward verbatim, which changes no index.
   */
  private record Pending(ByteBuffer record, BlobManifest manifest, Location movedFrom, String deletedId,
                         int deletedFrom, Promise<Void> promise) {}

  /**
   * @param rollBytes                 a pack larger than this is sealed and the next one begun
   * @param compactionBytesPerSecond  at most this many bytes a second copied forward by compaction (0: no limit),
   *                                  so rewriting a large pack does not crowd out the deposits sharing the disk
   */
  PackStore(Vertx vertx, Path dir, long rollBytes, long compactionBytesPerSecond) {
    this.vertx = vertx;
    this.dir = dir;
    this.rollBytes = rollBytes;
    this.compactionBytesPerSecond = compactionBytesPerSecond;
  }

  /** Blocking: rebuilds the index from every pack and opens the newest for appending. */
  void openBlocking() throws IOException {
    Files.createDirectories(dir);
    TreeMap<Integer, Path> packs = new TreeMap<>();
    try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "pack-*.dat")) {
      for (Path p : files) {
        String n = p.getFileName().toString();
        packs.put(Integer.parseInt(n.substring(5, n.length() - 4)), p);
      }
    }
    for (Map.Entry<Integer, Path> e : packs.entrySet()) {
      scan(e.getKey(), e.getValue());
    }
    currentNumber = packs.isEmpty() ? 1 : packs.lastKey();
    openCurrent();
  }

  private void openCurrent() throws IOException {
    Path p = path(currentNumber);
    current = FileChannel.open(p, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.READ);
    currentSize = current.size();
    zeroedTo = currentSize;
    current.position(currentSize);
    packSizes.put(currentNumber, currentSize);
  }

  private Path path(int number) {
    return dir.resolve(String.format("pack-%06d.dat", number));
  }

  private void scan(int number, Path p) throws IOException {
    try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      long pos = 0;
      long size = ch.size();
      long lastRotten = -1;
      ByteBuffer head = ByteBuffer.allocate(8);
      while (pos < size) {
        head.clear();
        if (ch.read(head, pos) < 8 || head.getInt(0) != MAGIC) {
          break;
        }
        int headerLength = head.getInt(4);
        if (headerLength <= 0 || headerLength > MAX_HEADER || pos + 8 + headerLength > size) {
          break;
        }
        ByteBuffer header = ByteBuffer.allocate(headerLength);
        ch.read(header, pos + 8);
        JsonObject json;
        try {
          json = new JsonObject(new String(header.array(), StandardCharsets.UTF_8));
        } catch (RuntimeException e) {
          break;
        }
        long dataOffset = pos + 8 + headerLength;
        if ("del".equals(json.getString("type"))) {
          applyDeletion(json.getString("blobId"), json.getInteger("pack"), json.getInteger("upTo"));
          pos = dataOffset;
          lastRotten = -1;
          continue;
        }
        BlobManifest m = BlobManifest.fromJson(json);
        if (dataOffset + m.size() > size) {
          break;
        }
        if (!BlobIds.isValid(m.blobId())) {
          log.warn("{}: record at offset {} names no blob id ('{}'); not indexed", p, dataOffset, m.blobId());
        } else if (intact(ch, dataOffset, m)) {
          indexPut(m.blobId(), Location.of(number, dataOffset, m));
          lastRotten = -1;
        } else {
          // Rot inside a whole record: only that replica is lost (the coordinator copies it again), not the rest.
          log.warn("{}: replica {} at offset {} fails its checksums; not indexed", p, m.blobId(), dataOffset);
          lastRotten = pos;
        }
        pos = dataOffset + m.size();
      }
      // Over the zeros kept ahead of the end, a record cut short by a crash reads as a whole one whose
      // checksums fail: it is the last, and only zeros follow it.
      boolean zerosAfter = pos < size && ZeroFilledTail.onlyZerosFrom(ch, pos);
      if (lastRotten >= 0 && zerosAfter) {
        log.warn("{}: cutting an unfinished record at offset {}", p, lastRotten);
        pos = lastRotten;
      } else if (pos < size && !zerosAfter) {
        log.warn("{}: cutting {} bytes of an unfinished record at offset {}", p, size - pos, pos);
      }
      if (pos < size) {
        ch.truncate(pos);
        ch.force(true);
      }
      packSizes.put(number, pos);
    }
  }

  /**
   * A deletion record deletes the replica in {@code pack}; one carried forward from an older build's record
   * deletes it in any pack up to {@code upTo}; an older build's record deletes it wherever it is (scanned in
   * order, that is a pack up to its own).
   */
  private void applyDeletion(String blobId, Integer pack, Integer upTo) {
    Location loc = location(blobId);
    if (loc != null && (pack != null ? loc.pack() == pack : upTo == null || loc.pack() <= upTo)) {
      indexRemove(blobId);
    }
  }

  private static boolean intact(FileChannel ch, long offset, BlobManifest m) throws IOException {
    ByteBuffer data = ByteBuffer.allocate((int) m.size());
    while (data.hasRemaining() && ch.read(data, offset + data.position()) > 0) {
      // keep reading
    }
    return data.position() == m.size() && corruptChunk(data.flip(), m) < 0;
  }

  /** Index of the first chunk whose CRC32C does not match, or -1. */
  static int corruptChunk(ByteBuffer data, BlobManifest m) {
    CRC32C crc = new CRC32C();
    int chunk = 0;
    for (int pos = 0; pos < data.limit(); pos += m.chunkSize(), chunk++) {
      crc.reset();
      crc.update(data.slice(pos, Math.min(m.chunkSize(), data.limit() - pos)));
      if (chunk >= m.crcs().length || (int) crc.getValue() != m.crcs()[chunk]) {
        return chunk;
      }
    }
    return chunk == m.crcs().length ? -1 : chunk;
  }

  boolean has(String blobId) {
    return location(blobId) != null;
  }

  /** Where the replica is, or null if the packs hold none under that id (or it is no blob id at all). */
  Location location(String blobId) {
    UUID key = key(blobId);
    return key == null ? null : index.get(key);
  }

  /** Batches written since open: one fsync each (a failed one included, though its sync may not have run). */
  long syncs() {
    return syncs;
  }

  /** How many replicas the packs hold. */
  int size() {
    return index.size();
  }

  /** The id of every replica the packs hold, to {@code action}, making no string of them. */
  void forEachId(Consumer<UUID> action) {
    index.keySet().forEach(action);
  }

  /** Null for an id that is no blob id at all (it cannot be in the index). */
  private static UUID key(String blobId) {
    return BlobIds.isValid(blobId) ? UUID.fromString(blobId) : null;
  }

  /** Bytes of the replicas currently in the index (not the packs' size: deleted records still take space). */
  long bytesUsed() {
    // A sum over the packs, a handful of 1 GiB files: cheap enough for every heartbeat.
    return liveBytesByPack.values().stream().mapToLong(Long::longValue).sum();
  }

  private void indexPut(String blobId, Location loc) {
    UUID key = key(blobId);
    if (key == null) {
      throw new IllegalArgumentException("not a blob id: " + blobId);
    }
    Location old = index.put(key, loc);
    if (old != null) {
      uncount(old);
    }
    liveBytesByPack.merge(loc.pack(), loc.size(), Long::sum);
  }

  private void indexRemove(String blobId) {
    UUID key = key(blobId);
    Location old = key == null ? null : index.remove(key);
    if (old != null) {
      uncount(old);
    }
  }

  private void uncount(Location loc) {
    liveBytesByPack.computeIfPresent(loc.pack(), (pack, bytes) -> bytes - loc.size());
  }

  /** Completes when the replica is durable (its batch fsynced); only then is it visible. */
  Future<Void> put(BlobManifest manifest, Buffer data) {
    byte[] header = manifest.toJson().put("type", "put").encode().getBytes(StandardCharsets.UTF_8);
    ByteBuffer record = ByteBuffer.allocate(8 + header.length + data.length());
    record.putInt(MAGIC).putInt(header.length).put(header).put(StreamDigest.nio(data)).flip();
    return enqueue(new Pending(record, manifest, null, null, 0, Promise.promise()));
  }

  Future<Void> delete(String blobId) {
    Future<Void> move = moving.get(blobId);
    if (move != null) {
      // Name the pack the copy lands in, not the one it leaves.
      return move.transform(ignored -> delete(blobId));
    }
    Location loc = location(blobId);
    if (loc == null) {
      return Future.succeededFuture();
    }
    byte[] header = new JsonObject().put("type", "del").put("blobId", blobId).put("pack", loc.pack()).encode()
        .getBytes(StandardCharsets.UTF_8);
    ByteBuffer record = ByteBuffer.allocate(8 + header.length);
    record.putInt(MAGIC).putInt(header.length).put(header).flip();
    deleting.merge(blobId, 1, Integer::sum);
    return enqueue(new Pending(record, null, null, blobId, loc.pack(), Promise.promise()))
        .onComplete(ar -> deleting.computeIfPresent(blobId, (id, n) -> n == 1 ? null : n - 1));
  }

  private Future<Void> enqueue(Pending p) {
    if (queue.add(p)) {
      // Queued at the end of this turn, the batch takes every replica of the request being handled (and any
      // other put in the same turn); queued at once, a worker woke to sync the first replica alone.
      vertx.runOnContext(v -> syncBatch());
    }
    return p.promise().future();
  }

  /** A batch as written: its replicas, where each landed, or why none did. */
  private record Written(List<Pending> batch, List<Location> placed, Throwable failure) {}

  /**
   * Queues a batch's task on this context's ordered worker queue, behind the batch being synced if there is
   * one (group commit: the task takes every replica that arrived meanwhile). The queue runs it on the same
   * worker thread as soon as that sync ends. Queued only once the previous batch had come back to the event
   * loop, each batch cost the wake-up of a parked worker thread and a round trip through the event loop.
   */
  private void syncBatch() {
    vertx.executeBlocking(() -> {
      synchronized (writeLock) {
        List<Pending> batch = queue.take();
        try {
          return new Written(batch, writeBatch(batch), null);
        } catch (Throwable e) { // out of memory too: each replica's deposit must hear of it, not wait forever
          return new Written(batch, null, e);
        }
      }
    }).onSuccess(written -> {
      syncs++;
      List<Pending> batch = written.batch();
      for (int i = 0; i < batch.size(); i++) {
        Pending p = batch.get(i);
        if (written.failure() != null) {
          p.promise().fail(written.failure());
          continue;
        }
        if (p.manifest() != null) {
          if (p.movedFrom() == null || location(p.manifest().blobId()) == p.movedFrom()) {
            indexPut(p.manifest().blobId(), written.placed().get(i));
          }
        } else if (p.deletedId() != null) {
          applyDeletion(p.deletedId(), p.deletedFrom(), null);
        }
        p.promise().complete();
      }
      if (written.failure() != null) {
        log.error("pack append failed: {}", written.failure().getMessage());
      }
    });
  }

  /** Blocking, one batch at a time: appends the batch to the current pack and syncs it; where each landed. */
  private List<Location> writeBatch(List<Pending> batch) throws IOException {
    if (currentSize > rollBytes || (sealRequested && currentSize > 0)) {
      sealRequested = false;
      current.truncate(currentSize); // a sealed pack keeps no zeros
      current.force(true);
      current.close();
      currentNumber++;
      openCurrent();
    }
    List<Location> placed = new ArrayList<>();
    ByteBuffer[] records = new ByteBuffer[batch.size()];
    long end = currentSize;
    for (int i = 0; i < records.length; i++) {
      Pending p = batch.get(i);
      records[i] = p.record();
      placed.add(p.manifest() == null ? null
          : Location.of(currentNumber, end + 8 + p.record().getInt(4), p.manifest()));
      end += p.record().remaining();
    }
    // The whole batch through one direct buffer (a system call per MiB, not one per replica), then one fsync.
    try {
      writeAll(records);
      zeroedTo = ZeroFilledTail.extend(current, end, zeroedTo, Math.min(ZERO_CHUNK_BYTES, rollBytes));
      current.force(false);
    } catch (Throwable e) {
      // Nothing of a failed batch stays behind: the next one starts where this one did.
      current.truncate(currentSize);
      current.position(currentSize);
      zeroedTo = currentSize;
      throw e;
    }
    currentSize = end;
    packSizes.put(currentNumber, end);
    return placed;
  }

  // ---------------------------------------------------------------------------------------------------------
  // compaction

  /**
   * Compacts the pack with the smallest live share under {@link #COMPACT_BELOW_LIVE}: its live replicas are
   * copied forward into the current pack, the deletion records that may still matter are carried forward,
   * and only when all of that is durable is the file deleted. A current pack that qualifies and has reached
   * {@link #COMPACT_MIN_BYTES} (or a quarter of a full pack) is sealed now, for a later call. One at a time.
   *
   * @return the number of the pack compacted, or 0 when none was due
   */
  Future<Integer> compactOne() {
    if (compacting) {
      return Future.succeededFuture(0);
    }
    int current = currentNumber;
    Integer victim = null;
    Future<Void> sealed = null;
    double lowest = COMPACT_BELOW_LIVE;
    for (Map.Entry<Integer, Long> e : packSizes.entrySet()) {
      long size = e.getValue();
      double live = size == 0 ? 1 : (double) liveBytesByPack.getOrDefault(e.getKey(), 0L) / size;
      if (live >= lowest) {
        continue;
      }
      if (e.getKey() >= current) {
        if (size >= Math.min(COMPACT_MIN_BYTES, rollBytes / 4)) {
          sealed = sealCurrent();
        }
        continue;
      }
      victim = e.getKey();
      lowest = live;
    }
    if (victim == null) {
      return sealed == null ? Future.succeededFuture(0) : sealed.compose(v -> compactOne());
    }
    int pack = victim;
    long sizeBefore = packSizes.getOrDefault(pack, 0L);
    long liveBefore = liveBytesByPack.getOrDefault(pack, 0L);
    compacting = true;
    return copyForward(pack)
        .compose(v -> deletePack(pack))
        .map(v -> {
          log.info("{}: compacted pack {}: {} bytes, {} of them live, copied forward", dir, pack, sizeBefore, liveBefore);
          return pack;
        })
        .onComplete(ar -> compacting = false);
  }

  /** Seals the current pack: the next batch, here one with an empty record, begins a new one. */
  private Future<Void> sealCurrent() {
    sealRequested = true;
    return enqueue(new Pending(ByteBuffer.allocate(0), null, null, null, 0, Promise.promise()));
  }

  /** One record of a pack being compacted: a replica's (with its bytes) or a deletion. */
  private record Found(ByteBuffer record, BlobManifest manifest, long dataOffset, boolean intact,
                       String deletedId, Integer deletedFrom, Integer deletedUpTo) {}

  private record FoundBatch(List<Found> records, long bytes, long next) {}

  private Future<Void> copyForward(int pack) {
    Promise<Void> done = Promise.promise();
    copyBatch(pack, 0, done);
    return done.future();
  }

  /**
   * Copies one batch, then starts the next from its completion. Not a chain of composed futures: each link
   * would keep its batch reachable until the last one ended, a whole pack's live bytes in memory at once.
   */
  private void copyBatch(int pack, long from, Promise<Void> done) {
    long started = System.nanoTime();
    vertx.executeBlocking(() -> readRecords(pack, from), false).compose(batch -> {
      List<Future<Void>> copies = new ArrayList<>();
      for (Found f : batch.records()) {
        Future<Void> copy = f.manifest() != null ? copyReplica(pack, f) : carryDeletion(pack, f);
        if (copy != null) {
          copies.add(copy);
        }
      }
      long bytes = batch.bytes();
      long next = batch.next();
      return Future.all(copies).compose(v -> paced(bytes, started)).map(v -> next);
    }).onSuccess(next -> {
      if (next < 0) {
        done.complete();
      } else {
        copyBatch(pack, next, done);
      }
    }).onFailure(done::fail);
  }

  /** Completes once {@code bytes} copied since {@code startedNanos} are within the compaction rate limit. */
  private Future<Void> paced(long bytes, long startedNanos) {
    if (compactionBytesPerSecond <= 0) {
      return Future.succeededFuture();
    }
    long waitMs = bytes * 1000 / compactionBytesPerSecond - (System.nanoTime() - startedNanos) / 1_000_000;
    if (waitMs <= 0) {
      return Future.succeededFuture();
    }
    Promise<Void> due = Promise.promise();
    vertx.setTimer(waitMs, id -> due.complete());
    return due.future();
  }

  /** Blocking: from {@code from}, about {@link #COPY_BATCH_BYTES} of live replicas and every deletion record. */
  private FoundBatch readRecords(int pack, long from) throws IOException {
    List<Found> found = new ArrayList<>();
    long bytes = 0;
    try (FileChannel ch = FileChannel.open(path(pack), StandardOpenOption.READ)) {
      long size = ch.size();
      long pos = from;
      ByteBuffer head = ByteBuffer.allocate(8);
      while (pos < size && bytes < COPY_BATCH_BYTES) {
        head.clear();
        readFully(ch, head, pos);
        int headerLength = head.getInt(4);
        if (head.getInt(0) != MAGIC || headerLength <= 0 || headerLength > MAX_HEADER) {
          throw new IOException(path(pack) + ": no record at offset " + pos + " though the scan at start found one");
        }
        ByteBuffer header = ByteBuffer.allocate(headerLength);
        readFully(ch, header, pos + 8);
        JsonObject json = new JsonObject(new String(header.array(), StandardCharsets.UTF_8));
        long dataOffset = pos + 8 + headerLength;
        if ("del".equals(json.getString("type"))) {
          found.add(new Found(record(head, header, null), null, dataOffset, true, json.getString("blobId"),
              json.getInteger("pack"), json.getInteger("upTo")));
          pos = dataOffset;
          continue;
        }
        BlobManifest m = BlobManifest.fromJson(json);
        Location loc = location(m.blobId());
        if (loc != null && loc.pack() == pack && loc.dataOffset() == dataOffset) {
          ByteBuffer data = ByteBuffer.allocate((int) m.size());
          readFully(ch, data, dataOffset);
          boolean intact = corruptChunk(data.duplicate().flip(), m) < 0;
          found.add(new Found(record(head, header, data), m, dataOffset, intact, null, null, null));
          bytes += data.capacity();
        }
        pos = dataOffset + m.size();
      }
      return new FoundBatch(found, bytes, pos < size ? pos : -1);
    }
  }

  private static void readFully(FileChannel ch, ByteBuffer into, long at) throws IOException {
    while (into.hasRemaining()) {
      if (ch.read(into, at + into.position()) < 0) {
        throw new IOException("a pack ended inside a record");
      }
    }
  }

  private static ByteBuffer record(ByteBuffer head, ByteBuffer header, ByteBuffer data) {
    ByteBuffer record = ByteBuffer.allocate(8 + header.capacity() + (data == null ? 0 : data.capacity()));
    record.put(head.duplicate().flip()).put(header.duplicate().flip());
    if (data != null) {
      record.put(data.duplicate().flip());
    }
    return record.flip();
  }

  /** Copies a replica forward if it is still live in {@code pack}; a corrupt one is dropped from the index. */
  private Future<Void> copyReplica(int pack, Found f) {
    String id = f.manifest().blobId();
    Location loc = location(id);
    if (loc == null || loc.pack() != pack || loc.dataOffset() != f.dataOffset() || deleting.containsKey(id)) {
      return null;
    }
    if (!f.intact()) {
      // Not copied: once this node's inventory no longer lists it, the coordinator copies it from a good replica.
      log.warn("{}: replica {} in pack {} is corrupt; compaction drops it", dir, id, pack);
      indexRemove(id);
      return null;
    }
    Future<Void> copied = enqueue(new Pending(f.record(), f.manifest(), loc, null, 0, Promise.promise()));
    moving.put(id, copied);
    return copied.onComplete(ar -> moving.remove(id, copied));
  }

  /**
   * Carries a deletion record forward while the older pack it applies to still exists (one for this same
   * pack dies with it); it deletes only there, so it can never delete a newer copy of its replica.
   */
  private Future<Void> carryDeletion(int pack, Found f) {
    boolean applies = f.deletedFrom() != null
        ? f.deletedFrom() < pack && packSizes.containsKey(f.deletedFrom())
        : packSizes.keySet().stream().anyMatch(n -> n < pack && (f.deletedUpTo() == null || n <= f.deletedUpTo()));
    if (!applies) {
      return null;
    }
    ByteBuffer record = f.record();
    if (f.deletedFrom() == null && f.deletedUpTo() == null) {
      // An older build's record deleted wherever the replica was: name the packs that can still hold it.
      byte[] header = new JsonObject().put("type", "del").put("blobId", f.deletedId()).put("upTo", pack).encode()
          .getBytes(StandardCharsets.UTF_8);
      record = ByteBuffer.allocate(8 + header.length).putInt(MAGIC).putInt(header.length).put(header).flip();
    }
    return enqueue(new Pending(record, null, null, null, 0, Promise.promise()));
  }

  /** Deletes a compacted pack, after checking that nothing indexed is left in it but replicas being deleted. */
  private Future<Void> deletePack(int pack) {
    Set<String> beingDeleted = Set.copyOf(deleting.keySet());
    return vertx.<Void>executeBlocking(() -> {
      for (Map.Entry<UUID, Location> e : index.entrySet()) {
        if (e.getValue().pack() == pack && !beingDeleted.contains(e.getKey().toString())) {
          throw new IllegalStateException("pack " + pack + " still holds live replica " + e.getKey() + ": not deleted");
        }
      }
      Files.delete(path(pack));
      try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
        d.force(true);
      }
      return null;
    }, false).onSuccess(v -> {
      packSizes.remove(pack);
      liveBytesByPack.remove(pack);
    });
  }

  /** Appends {@code records} to the current pack at its position (blocking; a worker thread). */
  private void writeAll(ByteBuffer[] records) throws IOException {
    if (writeBuffer == null) {
      writeBuffer = ByteBuffer.allocateDirect(WRITE_BUFFER_BYTES);
    }
    ByteBuffer out = writeBuffer.clear();
    for (ByteBuffer record : records) {
      ByteBuffer in = record.duplicate();
      while (in.hasRemaining()) {
        if (!out.hasRemaining()) {
          drain(out);
        }
        int n = Math.min(in.remaining(), out.remaining());
        out.put(out.position(), in, in.position(), n).position(out.position() + n);
        in.position(in.position() + n);
      }
    }
    drain(out);
  }

  private void drain(ByteBuffer out) throws IOException {
    out.flip();
    while (out.hasRemaining()) {
      current.write(out);
    }
    out.clear();
  }

  /** The pack appended to now. */
  int currentPack() {
    return currentNumber;
  }

  /** Bytes of records in every pack, live and dead (not the zeros kept ahead of the current pack's end). */
  long bytesOnDisk() {
    return packSizes.values().stream().mapToLong(Long::longValue).sum();
  }

  /** The replica's bytes (small by construction), checked against their chunk checksums. */
  Future<Buffer> read(String blobId) {
    Location loc = location(blobId);
    if (loc == null) {
      return Future.failedFuture(new IllegalStateException("no packed replica " + blobId));
    }
    return readAt(blobId, loc).recover(e -> {
      Location now = location(blobId);
      // Compaction copied the replica forward and deleted the pack between the look-up and the read.
      return e instanceof NoSuchFileException && now != null && now.pack() != loc.pack()
          ? readAt(blobId, now) : Future.failedFuture(e);
    });
  }

  private Future<Buffer> readAt(String blobId, Location loc) {
    return vertx.executeBlocking(() -> {
      try (FileChannel ch = FileChannel.open(path(loc.pack()), StandardOpenOption.READ)) {
        BlobManifest manifest = loc.manifest(blobId);
        ByteBuffer data = ByteBuffer.allocate((int) manifest.size());
        while (data.hasRemaining() && ch.read(data, loc.dataOffset() + data.position()) > 0) {
          // keep reading
        }
        data.flip();
        int bad = corruptChunk(data.duplicate(), manifest);
        if (bad >= 0 || data.limit() != manifest.size()) {
          throw new CorruptReplicaException(blobId, Math.max(bad, 0));
        }
        return Buffer.buffer(data.array());
      }
    }, false);
  }

  void closeBlocking() throws IOException {
    if (current != null) {
      current.close();
    }
  }
}
