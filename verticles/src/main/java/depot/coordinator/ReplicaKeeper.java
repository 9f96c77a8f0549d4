package depot.coordinator;

import depot.protocol.Addresses;
import depot.protocol.InventoryDigest;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Keeps every blob at its desired number of live replicas: copies node to node where there are too few
 * (the most endangered blobs first: fewest live copies, then most wanted; each copy from one source to one target
 * within the {@link RepairSlots} limits), removes copies where there are too many,
 * and deletes the replicas of blobs no file uses any more once their grace period is over.
 */
final class ReplicaKeeper {
  private static final Logger log = LoggerFactory.getLogger(ReplicaKeeper.class);
  private static final long COPY_TIMEOUT_MS = 30 * 60_000L;

  private final Vertx vertx;
  private final Catalog catalog;
  private final Function<JsonObject, Future<JsonObject>> commit;
  private final Supplier<Map<String, StorageNode>> nodes;
  /** Blobs being copied, trimmed or dropped: one change at a time per blob. */
  private final Set<String> copying = new HashSet<>();
  private final RepairSlots slots;
  /** The source whose last copy of a blob failed: the next attempt tries the other holders first. */
  private final Map<String, String> failedSource = new HashMap<>();
  private final Map<String, Integer> pinned = new HashMap<>();
  /** Blobs whose last copy attempt failed, and when to try again: no hot loop against a dead target. */
  private final Map<String, Long> retryAt = new HashMap<>();
  private static final long RETRY_DELAY_MS = 3000;
  /** Nodes that served corrupt bytes of a blob: new copies of that blob go elsewhere. */
  private final Map<String, Set<String>> avoid = new HashMap<>();
  /** Copy commands waiting for their target's answer, by target: a target that goes down fails them at once. */
  private final Map<String, Set<Promise<JsonObject>>> copiesTo = new HashMap<>();
  private boolean scanScheduled;
  /** A scan is walking the catalog; wake-ups meanwhile start another one when it ends. */
  private boolean scanning;
  private boolean wokenWhileScanning;
  /** Blobs to look at in the next scan; everything when {@link #fullScan} is set. */
  private Set<String> dirty = new java.util.LinkedHashSet<>();
  private boolean fullScan = true;
  private final Supplier<Set<String>> uploadsInFlight;
  /** Nodes the data path just lost while the directory still lists them (see {@code SuspectNodes}). */
  private final Supplier<Set<String>> suspects;
  /** Until then, nodes of a restarting cluster are still coming back: no copies, no trims. */
  private final long quietUntil;

  ReplicaKeeper(Vertx vertx, Catalog catalog, Function<JsonObject, Future<JsonObject>> commit,
                Supplier<Map<String, StorageNode>> nodes, Supplier<Set<String>> uploadsInFlight,
                Supplier<Set<String>> suspects, long startupGraceMs, RepairSlots slots) {
    this.vertx = vertx;
    this.slots = slots;
    this.catalog = catalog;
    this.commit = commit;
    this.nodes = nodes;
    this.uploadsInFlight = uploadsInFlight;
    this.suspects = suspects;
    this.quietUntil = System.currentTimeMillis() + startupGraceMs;
  }

  /** Asks for a look at one blob soon; many wake-ups in a row cost one scan. */
  void wake(String blobId) {
    dirty.add(blobId);
    wake();
  }

  /** Asks for a look at every blob (a node came or went): the only scan whose cost grows with the catalog. */
  void wakeAll() {
    fullScan = true;
    wake();
  }

  private void wake() {
    if (scanning) {
      wokenWhileScanning = true;
      return;
    }
    if (!scanScheduled) {
      scanScheduled = true;
      vertx.runOnContext(v -> {
        scanScheduled = false;
        scan();
      });
    }
  }

  void pin(String blobId) {
    pinned.merge(blobId, 1, Integer::sum);
  }

  void unpin(String blobId) {
    pinned.computeIfPresent(blobId, (k, n) -> n > 1 ? n - 1 : null);
  }

  private Set<String> live() {
    Set<String> live = new HashSet<>();
    nodes.get().values().forEach(n -> {
      if (n.up()) {
        live.add(n.id());
      }
    });
    return live;
  }

  private List<String> liveHolders(BlobEntry blob, Set<String> live) {
    return blob.nodes.stream().filter(live::contains).toList();
  }

  private void scan() {
    if (System.currentTimeMillis() < quietUntil) {
      vertx.setTimer(quietUntil - System.currentTimeMillis() + 10, id -> wake());
      return;
    }
    if (!fullScan && dirty.isEmpty()) {
      return;
    }
    Set<String> live = live();
    List<BlobEntry> needy = new ArrayList<>();
    List<BlobEntry> candidates;
    if (fullScan) {
      candidates = new ArrayList<>(catalog.blobs());
    } else {
      candidates = new ArrayList<>();
      for (String id : dirty) {
        BlobEntry b = catalog.blob(id);
        if (b != null) {
          candidates.add(b);
        }
      }
    }
    fullScan = false;
    dirty = new java.util.LinkedHashSet<>();
    scanning = true;
    SlicedWalk.forEach(vertx, candidates, SlicedWalk.SLICE, blob -> look(blob, live, needy)).onComplete(walked -> {
      scanning = false;
      if (walked.failed()) {
        log.error("repair scan failed", walked.cause());
      }
      needy.removeIf(blob -> catalog.blob(blob.blobId) != blob || copying.contains(blob.blobId));
      needy.sort(Comparator.comparingInt((BlobEntry b) -> liveHolders(b, live).size())
          .thenComparing(b -> -catalog.desiredReplicas(b)));
      for (BlobEntry blob : needy) {
        if (slots.full() || !copy(blob, live)) {
          dirty.add(blob.blobId); // waits for a free repair slot: looked at again when a copy ends
        }
      }
      if (wokenWhileScanning) {
        wokenWhileScanning = false;
        wake();
      }
    });
  }

  /** One blob of a scan: surplus copies are trimmed now; a blob short of copies joins {@code needy}. */
  private void look(BlobEntry blob, Set<String> live, List<BlobEntry> needy) {
    if (blob.files.isEmpty() || catalog.blob(blob.blobId) != blob) {
      return; // no file uses it (any more)
    }
    if (copying.contains(blob.blobId) || retryAt.getOrDefault(blob.blobId, 0L) > System.currentTimeMillis()) {
      // Looked at again once the running copy ends or the retry delay is over.
      return;
    }
    int desired = catalog.desiredReplicas(blob);
    List<String> holders = liveHolders(blob, live);
    if (holders.size() > desired) {
      trim(blob, holders, desired);
    } else if (holders.size() < desired && !holders.isEmpty()) {
      needy.add(blob);
    }
  }

  /** Repair copies running now. */
  int repairsRunning() {
    return slots.running();
  }

  /** Repair copies each storage node takes part in now, as source or target. */
  Map<String, Integer> repairsByNode() {
    return slots.byNode();
  }

  /**
   * Starts copies of {@code blob} to the nodes it is missing on, each from one live holder to one target
   * with a free repair slot on both. False when a copy is wanted but has to wait for a slot.
   */
  private boolean copy(BlobEntry blob, Set<String> live) {
    List<String> holders = new ArrayList<>(liveHolders(blob, live));
    int missing = catalog.desiredReplicas(blob) - holders.size();
    Map<String, StorageNode> all = nodes.get();
    Set<String> hostsTaken = new HashSet<>();
    holders.forEach(h -> {
      StorageNode n = all.get(h);
      if (n != null) {
        hostsTaken.add(n.host());
      }
    });
    Set<String> exclude = new HashSet<>(blob.nodes);
    exclude.addAll(avoid.getOrDefault(blob.blobId, Set.of()));
    Set<String> busy = new HashSet<>();
    all.keySet().stream().filter(id -> !slots.nodeFree(id)).forEach(busy::add);
    exclude.addAll(busy); // a busy target would only wait: another one with room copies now
    // A copy to a node that probably died would fail only once its record expires, holding two repair slots
    // until then: suspects are left out, and a blob with no other target is looked at again later.
    Set<String> doubted = suspects.get();
    exclude.addAll(doubted);
    List<StorageNode> targets = Placement.choose(all.values(), missing, blob.size, exclude, hostsTaken);
    if (targets.isEmpty()) {
      if (all.keySet().stream().anyMatch(id -> doubted.contains(id) && !blob.nodes.contains(id))) {
        retryLater(blob);
        return true;
      }
      return busy.isEmpty();
    }
    // Least busy source first; a suspect, or one that just failed this blob, last.
    String failed = failedSource.get(blob.blobId);
    holders.sort(Comparator.comparing((String h) -> h.equals(failed) || doubted.contains(h))
        .thenComparingInt(slots::load));
    List<Future<JsonObject>> copies = new ArrayList<>();
    for (StorageNode target : targets) {
      StorageNode source = null;
      for (String h : holders) {
        StorageNode n = all.get(h);
        if (n != null && n.url() != null && slots.tryAcquire(h, target.id())) {
          source = n;
          break;
        }
      }
      if (source == null) {
        break;
      }
      String sourceId = source.id();
      copies.add(copyOne(blob, source, target).onComplete(ar -> {
        slots.release(sourceId, target.id());
        if (!dirty.isEmpty()) {
          wake();
        }
      }));
    }
    if (copies.isEmpty()) {
      return false;
    }
    copying.add(blob.blobId);
    Future.join(copies).onComplete(ar -> {
      copying.remove(blob.blobId);
      if (ar.failed()) {
        retryLater(blob);
      } else {
        retryAt.remove(blob.blobId);
        failedSource.remove(blob.blobId);
      }
      wake(blob.blobId);
      // Freed repair slots may be waited for by others.
      if (!dirty.isEmpty()) {
        wake();
      }
    });
    return true;
  }

  /** No hot loop against a dead target: the blob is looked at again after {@link #RETRY_DELAY_MS}. */
  private void retryLater(BlobEntry blob) {
    long at = System.currentTimeMillis() + RETRY_DELAY_MS;
    retryAt.put(blob.blobId, at);
    vertx.setTimer(RETRY_DELAY_MS + 10, id -> {
      retryAt.remove(blob.blobId, at); // unless a later failure set a later time
      wake(blob.blobId);
    });
  }

  /** Tells {@code target} to pull the blob from {@code source} (node to node over HTTP, checksums verified). */
  private Future<JsonObject> copyOne(BlobEntry blob, StorageNode source, StorageNode target) {
    JsonObject cmd = new JsonObject().put("action", "replicate").put("blobId", blob.blobId)
        .put("sha256", blob.sha256).put("sources", new JsonArray().add(source.url()));
    long started = System.currentTimeMillis();
    return copyTo(target.id(), cmd)
        .compose(reply -> commit.apply(new JsonObject().put("op", Catalog.OP_BLOB_NODES).put("blobId", blob.blobId)
            .put("add", new JsonArray().add(target.id()))))
        .onSuccess(v -> {
          log.info("copied {} ({} bytes) from {} to {} in {} ms", blob.blobId, blob.size, source.id(), target.id(),
              System.currentTimeMillis() - started);
          vertx.eventBus().publish(Addresses.COORDINATOR_EVENTS, new JsonObject().put("type", "replica.added")
              .put("blobId", blob.blobId).put("node", target.id()));
        })
        .onFailure(err -> {
          failedSource.put(blob.blobId, source.id());
          log.warn("copying {} from {} to {} failed: {}", blob.blobId, source.id(), target.id(), err.getMessage());
        });
  }

  /**
   * Sends a copy command. A node that dies never answers, and a copy may rightly take many minutes: the
   * command fails when its target is reported down ({@link #nodeDown}), not after the long timeout.
   */
  private Future<JsonObject> copyTo(String target, JsonObject cmd) {
    Promise<JsonObject> answer = Promise.promise();
    Set<Promise<JsonObject>> waiting = copiesTo.computeIfAbsent(target, t -> new HashSet<>());
    waiting.add(answer);
    vertx.eventBus().<JsonObject>request(Addresses.storageNode(target), cmd, new DeliveryOptions().setSendTimeout(COPY_TIMEOUT_MS))
        // tryComplete/tryFail: nodeDown may have failed the answer already.
        .onSuccess(reply -> answer.tryComplete(reply.body()))
        .onFailure(answer::tryFail);
    return answer.future().onComplete(ar -> {
      waiting.remove(answer);
      if (waiting.isEmpty()) {
        copiesTo.remove(target, waiting);
      }
    });
  }

  /** A storage node is down: the copies it was making will never be answered. */
  void nodeDown(String nodeId) {
    Set<Promise<JsonObject>> waiting = copiesTo.remove(nodeId);
    if (waiting != null) {
      log.info("{} is down: {} copies to it fail", nodeId, waiting.size());
      List.copyOf(waiting).forEach(p -> p.tryFail(nodeId + " went down during the copy"));
    }
  }

  private void trim(BlobEntry blob, List<String> holders, int desired) {
    if (pinned.containsKey(blob.blobId)) {
      return;
    }
    Map<String, StorageNode> all = nodes.get();
    List<String> surplus = new ArrayList<>(holders);
    // Keep the replicas on the roomiest nodes; give back space where it is scarcest.
    surplus.sort(Comparator.comparingLong(id -> all.containsKey(id) ? all.get(id).diskFree() : 0L));
    surplus = surplus.subList(0, holders.size() - desired);
    List<String> removed = List.copyOf(surplus);
    copying.add(blob.blobId);
    commit.apply(new JsonObject().put("op", Catalog.OP_BLOB_NODES).put("blobId", blob.blobId)
            .put("remove", new JsonArray(removed)))
        .onSuccess(v -> {
          deleteReplicas(blob.blobId, removed);
          removed.forEach(n -> vertx.eventBus().publish(Addresses.COORDINATOR_EVENTS,
              new JsonObject().put("type", "replica.removed").put("blobId", blob.blobId).put("node", n)));
        })
        .onComplete(ar -> copying.remove(blob.blobId));
  }

  /** Completes when the blob has as many live replicas as wanted, or when nothing more can be done in time. */
  Future<Void> settle(String blobId, long timeoutMs) {
    Promise<Void> done = Promise.promise();
    long deadline = System.currentTimeMillis() + timeoutMs;
    wake(blobId);
    checkSettled(blobId, deadline, done);
    return done.future();
  }

  private void checkSettled(String blobId, long deadline, Promise<Void> done) {
    BlobEntry blob = catalog.blob(blobId);
    if (blob == null) {
      done.complete();
      return;
    }
    Set<String> live = live();
    int holders = liveHolders(blob, live).size();
    int desired = catalog.desiredReplicas(blob);
    // A suspect is no target for now (see copy): waiting on it would hold the caller until the deadline.
    Set<String> doubted = suspects.get();
    boolean canDoMore = live.stream().anyMatch(n -> !blob.nodes.contains(n) && !doubted.contains(n));
    if ((holders == desired || (holders < desired && !canDoMore)) && !copying.contains(blobId)
        || System.currentTimeMillis() > deadline) {
      done.complete();
      return;
    }
    vertx.setTimer(50, id -> checkSettled(blobId, deadline, done));
  }

  void deleteReplicas(String blobId, Collection<String> nodeIds) {
    for (String node : nodeIds) {
      vertx.eventBus().request(Addresses.storageNode(node),
              new JsonObject().put("action", "delete").put("blobIds", new JsonArray().add(blobId)),
              new DeliveryOptions().setSendTimeout(10_000))
          .onFailure(err -> log.warn("could not delete {} on {}: {}", blobId, node, err.getMessage()));
    }
  }

  void dropCorrupt(BlobEntry blob, String node) {
    avoid.computeIfAbsent(blob.blobId, b -> new HashSet<>()).add(node);
    commit.apply(new JsonObject().put("op", Catalog.OP_BLOB_NODES).put("blobId", blob.blobId)
            .put("remove", new JsonArray().add(node)))
        .onSuccess(v -> {
          deleteReplicas(blob.blobId, List.of(node));
          wake(blob.blobId);
        });
  }

  /**
   * Compares what a storage node holds with the catalog (as HDFS does with block reports): replicas the
   * catalog does not know (a node that was away while they were deleted) are removed; known replicas the
   * catalog did not list for this node count again, and any surplus is then trimmed by the scan. Replicas
   * the catalog lists on the node but the node no longer has (it lost its disk) stop counting and are copied
   * again.
   *
   * <p>The two sides first compare {@link InventoryDigest}s; only the ids of the buckets that differ travel.
   * One walk through the catalog serves every node asked about.
   */
  void reconcile(List<String> nodeIds) {
    Map<String, InventoryDigest> expected = new HashMap<>();
    nodeIds.forEach(id -> expected.put(id, new InventoryDigest()));
    SlicedWalk.forEach(vertx, new ArrayList<>(catalog.blobs()), SlicedWalk.SLICE, blob -> {
      for (String node : blob.nodes) {
        InventoryDigest onNode = expected.get(node);
        if (onNode != null) {
          onNode.add(blob.blobId);
        }
      }
    }).onSuccess(v -> expected.forEach(this::reconcile));
  }

  private void reconcile(String nodeId, InventoryDigest expected) {
    vertx.eventBus().<JsonObject>request(Addresses.storageNode(nodeId), new JsonObject().put("action", "inventoryDigest"),
            new DeliveryOptions().setSendTimeout(30_000))
        .onSuccess(reply -> {
          List<Integer> differ = expected.bucketsDifferentFrom(InventoryDigest.decode(reply.body().getString("digest")));
          if (!differ.isEmpty()) {
            compareBuckets(nodeId, differ);
          }
        })
        .onFailure(err -> log.debug("inventory digest of {} failed: {}", nodeId, err.getMessage()));
  }

  /** Lists what the catalog has on the node in {@code buckets}, then compares it with what the node has there. */
  private void compareBuckets(String nodeId, List<Integer> differ) {
    Set<Integer> buckets = new HashSet<>(differ);
    // Listed before the inventory is asked for, so each was on the node's disk by then (a replica is listed
    // only once stored): one missing from the answer is lost, not still on its way.
    Set<String> listed = new HashSet<>();
    SlicedWalk.forEach(vertx, new ArrayList<>(catalog.blobs()), SlicedWalk.SLICE, blob -> {
      if (blob.nodes.contains(nodeId) && buckets.contains(InventoryDigest.bucketOf(blob.blobId))) {
        listed.add(blob.blobId);
      }
    }).onSuccess(v -> compareBuckets(nodeId, listed, new JsonArray(differ)));
  }

  /** The node's replicas in {@code buckets} against those of the catalog, {@code listed}. */
  private void compareBuckets(String nodeId, Set<String> listed, JsonArray buckets) {
    vertx.eventBus().<JsonObject>request(Addresses.storageNode(nodeId),
            new JsonObject().put("action", "inventory").put("buckets", buckets), new DeliveryOptions().setSendTimeout(30_000))
        .onSuccess(reply -> {
          reply.body().getJsonArray("blobIds", new JsonArray()).forEach(listed::remove);
          forgetLost(nodeId, listed);
          Set<String> uploading = new HashSet<>(uploadsInFlight.get());
          // Just stored, perhaps for a deposit committed through another coordinator after a failover.
          reply.body().getJsonArray("recent", new JsonArray()).forEach(b -> uploading.add((String) b));
          List<String> unknown = new ArrayList<>();
          List<String> regained = new ArrayList<>();
          for (Object o : reply.body().getJsonArray("blobIds", new JsonArray())) {
            String blobId = (String) o;
            BlobEntry blob = catalog.blob(blobId);
            if (blob == null) {
              // Just stored is no excuse for a blob the catalog dropped: its deletion never reached the node.
              if (!uploading.contains(blobId) || catalog.wasDropped(blobId)) {
                unknown.add(blobId);
              }
            } else if (!blob.nodes.contains(nodeId) && !copying.contains(blobId)) {
              if (avoid.getOrDefault(blobId, Set.of()).contains(nodeId) || blob.files.isEmpty()) {
                unknown.add(blobId);
              } else {
                regained.add(blobId);
              }
            }
          }
          if (!unknown.isEmpty()) {
            log.info("{} holds {} replicas the catalog no longer has: deleting them", nodeId, unknown.size());
            vertx.eventBus().request(Addresses.storageNode(nodeId), new JsonObject().put("action", "delete")
                .put("blobIds", new JsonArray(unknown)), new DeliveryOptions().setSendTimeout(30_000));
          }
          for (String blobId : regained) {
            commit.apply(new JsonObject().put("op", Catalog.OP_BLOB_NODES).put("blobId", blobId)
                .put("add", new JsonArray().add(nodeId))).onSuccess(v -> wake(blobId));
          }
          if (!regained.isEmpty()) {
            log.info("{} brought back {} replicas", nodeId, regained.size());
          }
        })
        .onFailure(err -> log.debug("inventory of {} failed: {}", nodeId, err.getMessage()));
  }

  /** The node no longer has these replicas: they stop counting there, and the scan copies them again. */
  private void forgetLost(String nodeId, Set<String> lost) {
    lost.removeIf(blobId -> copying.contains(blobId) || catalog.blob(blobId) == null
        || !catalog.blob(blobId).nodes.contains(nodeId));
    if (lost.isEmpty()) {
      return;
    }
    log.warn("{} no longer has {} replicas the catalog lists there (a lost disk?): copying them again", nodeId, lost.size());
    for (String blobId : lost) {
      commit.apply(new JsonObject().put("op", Catalog.OP_BLOB_NODES).put("blobId", blobId)
          .put("remove", new JsonArray().add(nodeId))).onSuccess(v -> wake(blobId));
    }
  }

  /** Deletes replicas of blobs no file has used for {@code graceMs} (readers of an old version finish first). */
  void collectGarbage(long graceMs) {
    long now = System.currentTimeMillis();
    for (BlobEntry blob : catalog.orphans()) {
      if (blob.orphanedAt == 0 || now - blob.orphanedAt < graceMs || pinned.containsKey(blob.blobId)
          || copying.contains(blob.blobId)) {
        continue;
      }
      List<String> holders = List.copyOf(blob.nodes);
      copying.add(blob.blobId);
      commit.apply(new JsonObject().put("op", Catalog.OP_BLOB_DROP).put("blobId", blob.blobId))
          .onSuccess(r -> {
            if (r.getBoolean("dropped", false)) {
              deleteReplicas(blob.blobId, holders);
            }
          })
          .onComplete(ar -> copying.remove(blob.blobId));
    }
  }
}
