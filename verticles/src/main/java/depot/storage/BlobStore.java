package depot.storage;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * A storage node's replicas on local disk: {@code blobs/<xx>/<blobId>} holds the bytes and
 * {@code <blobId>.meta} the manifest; unfinished writes live in {@code tmp/} until an atomic rename.
 */
public final class BlobStore {
  private static final Logger log = LoggerFactory.getLogger(BlobStore.class);
  private static final String META = ".meta";

  private final Vertx vertx;
  private final Path root;
  private final Path blobs;
  private final Path tmp;
  private volatile int directIoAlignment;
  /** Replicas kept as files of their own (large ones). */
  private final Map<String, Long> inventory = new ConcurrentHashMap<>();
  /** How long a replica counts as just stored: its deposit may still be on its way to the catalog. */
  static final long RECENT_MS = 5 * 60_000L;
  private final RecentReplicas recent = new RecentReplicas(RECENT_MS);
  private final java.util.concurrent.atomic.AtomicLong fileBytes = new java.util.concurrent.atomic.AtomicLong();
  /** Replicas packed into append-only files (small ones). */
  private final PackStore packs;
  private final Map<String, BlobManifest> manifestCache = new LinkedHashMap<>(256, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<String, BlobManifest> eldest) {
      return size() > 4096;
    }
  };

  public BlobStore(Vertx vertx, Path dataDir) {
    this(vertx, dataDir, PackStore.ROLL_BYTES, 0);
  }

  /**
   * @param packRollBytes                 a pack file larger than this is sealed and the next one begun
   * @param packCompactionBytesPerSecond  what pack compaction copies at most per second (0: no limit)
   */
  public BlobStore(Vertx vertx, Path dataDir, long packRollBytes, long packCompactionBytesPerSecond) {
    this.vertx = vertx;
    this.root = dataDir;
    this.blobs = dataDir.resolve("blobs");
    this.tmp = dataDir.resolve("tmp");
    this.packs = new PackStore(vertx, dataDir.resolve("packs"), packRollBytes, packCompactionBytesPerSecond);
  }

  /** Loads the inventory and clears debris of writes that never finished. */
  public Future<Void> open() {
    return vertx.executeBlocking(() -> {
      Files.createDirectories(blobs);
      Files.createDirectories(tmp);
      try (DirectoryStream<Path> leftovers = Files.newDirectoryStream(tmp)) {
        for (Path p : leftovers) {
          Files.deleteIfExists(p);
        }
      }
      try (DirectoryStream<Path> shards = Files.newDirectoryStream(blobs)) {
        for (Path shard : shards) {
          if (Files.isDirectory(shard)) {
            scanShard(shard);
          }
        }
      }
      packs.openBlocking();
      directIoAlignment = probeDirectIo();
      log.info("storage at {}: {} replicas, {} bytes", root, replicaCount(), bytesUsed());
      return null;
    });
  }

  /**
   * The alignment O_DIRECT writes need in the data folder (its file system's block size, at least 4 KiB),
   * or 0 when the file system refuses O_DIRECT (tmpfs and some others): then writes use the page cache.
   */
  private int probeDirectIo() {
    Path probe = tmp.resolve("direct-io-probe");
    try {
      int alignment = (int) Math.max(4096, Files.getFileStore(tmp).getBlockSize());
      ByteBuffer block = ByteBuffer.allocateDirect(2 * alignment).alignedSlice(alignment).limit(alignment);
      try (FileChannel ch = FileChannel.open(probe, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
          com.sun.nio.file.ExtendedOpenOption.DIRECT)) {
        ch.write(block, 0);
      }
      return alignment;
    } catch (IOException | UnsupportedOperationException e) {
      log.info("storage at {}: no direct I/O here ({}); replicas are written through the page cache", root, e.getMessage());
      return 0;
    } finally {
      try {
        Files.deleteIfExists(probe);
      } catch (IOException ignored) {
        // a leftover probe is cleared with the rest of tmp at the next start
      }
    }
  }

  /** See {@link #probeDirectIo()}: 0 when replicas cannot be written with O_DIRECT here. */
  public int directIoAlignment() {
    return directIoAlignment;
  }

  private void scanShard(Path shard) throws IOException {
    try (DirectoryStream<Path> files = Files.newDirectoryStream(shard)) {
      for (Path p : files) {
        String file = p.getFileName().toString();
        if (file.endsWith(META)) {
          String id = file.substring(0, file.length() - META.length());
          if (!Files.exists(shard.resolve(id))) {
            log.warn("replica {} lost its data file; dropping its manifest", id);
            Files.deleteIfExists(p);
          }
        } else if (BlobIds.isValid(file)) {
          if (Files.exists(shard.resolve(file + META))) {
            long size = Files.size(p);
            if (inventory.put(file, size) == null) {
              fileBytes.addAndGet(size);
            }
          } else {
            Files.deleteIfExists(p);
          }
        }
      }
    }
  }

  public Path root() {
    return root;
  }

  public String dataPath(String blobId) {
    return shard(blobId).resolve(blobId).toString();
  }

  private Path shard(String blobId) {
    return blobs.resolve(blobId.substring(0, 2));
  }

  /** A fresh temp path for an incoming replica (several writers of one blob never collide). */
  public String newTempPath(String blobId) {
    return tmp.resolve(blobId + "." + UUID.randomUUID() + ".part").toString();
  }

  public boolean has(String blobId) {
    return inventory.containsKey(blobId) || packs.has(blobId);
  }

  public boolean isPacked(String blobId) {
    return packs.has(blobId);
  }

  /**
   * Replicas stored in the last {@link #RECENT_MS} (a coordinator may not have committed their deposit yet),
   * to {@code action}.
   */
  public void forEachRecentlyStored(Consumer<UUID> action) {
    recent.forEachWithin(System.currentTimeMillis(), action);
  }

  /**
   * The id of every replica held, to {@code action}. No list of strings: at a few hundred thousand replicas a
   * node, one string each took tens of megabytes for every inventory the coordinator asked for.
   */
  public void forEachBlobId(Consumer<UUID> action) {
    inventory.keySet().forEach(id -> action.accept(UUID.fromString(id)));
    packs.forEachId(action);
  }

  /** The ids of every replica held, compactly: for a list kept for minutes (a scrub pass). */
  BlobIdList blobIdList() {
    BlobIdList ids = new BlobIdList();
    forEachBlobId(ids::add);
    return ids;
  }

  public int replicaCount() {
    return inventory.size() + packs.size();
  }

  /** Bytes held, kept as a running total: heartbeats ask every second, and the inventory can be large. */
  public long bytesUsed() {
    return fileBytes.get() + packs.bytesUsed();
  }

  /** Stores a small replica in the pack files; durable when the future completes. */
  public Future<Void> commitPacked(BlobManifest manifest, io.vertx.core.buffer.Buffer data) {
    return packs.put(manifest, data).onSuccess(v -> recent.add(manifest.blobId(), System.currentTimeMillis()));
  }

  /**
   * Rewrites every pack file less than half live (deleted small replicas leave their bytes in the packs
   * until then); completes with how many were rewritten.
   */
  public Future<Integer> compactPacks() {
    return packs.compactOne().compose(pack -> pack == 0 ? Future.succeededFuture(0) : compactPacks().map(n -> n + 1));
  }

  /** The bytes of a packed replica, verified. */
  public Future<io.vertx.core.buffer.Buffer> readPacked(String blobId) {
    return packs.read(blobId);
  }

  public Future<BlobManifest> manifest(String blobId) {
    PackStore.Location packed = packs.location(blobId);
    if (packed != null) {
      return Future.succeededFuture(packed.manifest(blobId));
    }
    synchronized (manifestCache) {
      BlobManifest cached = manifestCache.get(blobId);
      if (cached != null) {
        return Future.succeededFuture(cached);
      }
    }
    return vertx.fileSystem().readFile(shard(blobId).resolve(blobId + META).toString())
        .map(buf -> {
          BlobManifest m = BlobManifest.fromJson(buf.toJsonObject());
          synchronized (manifestCache) {
            manifestCache.put(blobId, m);
          }
          return m;
        });
  }

  /**
   * Makes a fully written, fsynced temp file a replica: manifest written and fsynced, data renamed
   * atomically into place, manifest renamed after it, and the directory fsynced so both renames last.
   */
  public Future<Void> commit(String tempData, BlobManifest manifest) {
    return vertx.executeBlocking(() -> {
      Path dir = shard(manifest.blobId());
      Files.createDirectories(dir);
      Path metaTmp = Path.of(tempData + META);
      try (FileChannel ch = FileChannel.open(metaTmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
          StandardOpenOption.TRUNCATE_EXISTING)) {
        ch.write(ByteBuffer.wrap(manifest.toJson().encode().getBytes(StandardCharsets.UTF_8)));
        ch.force(true);
      }
      atomicMove(Path.of(tempData), dir.resolve(manifest.blobId()));
      atomicMove(metaTmp, dir.resolve(manifest.blobId() + META));
      fsyncDirectory(dir);
      if (inventory.put(manifest.blobId(), manifest.size()) == null) {
        fileBytes.addAndGet(manifest.size());
      }
      recent.add(manifest.blobId(), System.currentTimeMillis());
      return null;
    }, false);
  }

  private static void atomicMove(Path from, Path to) throws IOException {
    try {
      Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      throw new IOException("the data folder's file system cannot rename atomically", e);
    }
  }

  private static void fsyncDirectory(Path dir) throws IOException {
    try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
      ch.force(true);
    }
  }

  /** Removes a replica: the manifest goes first, so a crash in between leaves debris, never a half replica. */
  public Future<Boolean> delete(String blobId) {
    if (packs.has(blobId)) {
      return packs.delete(blobId).map(true);
    }
    return vertx.executeBlocking(() -> {
      Path dir = shard(blobId);
      Long size = inventory.remove(blobId);
      boolean existed = size != null;
      if (existed) {
        fileBytes.addAndGet(-size);
      }
      synchronized (manifestCache) {
        manifestCache.remove(blobId);
      }
      Files.deleteIfExists(dir.resolve(blobId + META));
      Files.deleteIfExists(dir.resolve(blobId));
      return existed;
    }, false);
  }

  public Future<Void> discard(String tempData) {
    return vertx.executeBlocking(() -> {
      try {
        Files.deleteIfExists(Path.of(tempData));
        Files.deleteIfExists(Path.of(tempData + META));
      } catch (NoSuchFileException ignored) {
        // already gone
      }
      return null;
    }, false);
  }

  /** Disk figures for heartbeats and placement. */
  public Future<JsonObject> stats() {
    return vertx.fileSystem().fsProps(root.toString()).map(props -> new JsonObject()
        .put("diskUsed", bytesUsed())
        .put("diskFree", props.usableSpace())
        .put("diskTotal", props.totalSpace())
        .put("replicas", replicaCount()));
  }

}
