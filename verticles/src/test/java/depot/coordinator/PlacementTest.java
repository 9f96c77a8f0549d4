package depot.coordinator;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PlacementTest {
  static final long GB = 1L << 30;

  static StorageNode node(String id, String host, long free) {
    return new StorageNode(id, host, "http://" + host + ":" + (7000 + id.hashCode() % 100), true, free, 0);
  }

  static StorageNode down(String id, String host, long free) {
    return new StorageNode(id, host, "http://" + host + ":7000", false, free, 0);
  }

  static List<String> ids(List<StorageNode> nodes) {
    return nodes.stream().map(StorageNode::id).toList();
  }

  static List<String> choose(List<StorageNode> nodes, int count, long size) {
    return ids(Placement.choose(nodes, count, size, Set.of()));
  }

  @Test
  void picksDistinctNodes() {
    List<StorageNode> nodes = List.of(node("a", "h1", 10 * GB), node("b", "h2", 20 * GB), node("c", "h3", 30 * GB),
        node("d", "h4", 40 * GB), node("e", "h5", 50 * GB));
    for (int count = 1; count <= 5; count++) {
      List<String> chosen = choose(nodes, count, 1);
      assertEquals(count, chosen.size());
      assertEquals(count, new HashSet<>(chosen).size(), "distinct: " + chosen);
    }
  }

  @Test
  void neverMoreThanAsked() {
    List<StorageNode> nodes = List.of(node("a", "h1", GB), node("b", "h1", GB), node("c", "h1", GB));
    assertEquals(2, choose(nodes, 2, 1).size());
    assertTrue(choose(nodes, 0, 1).isEmpty());
  }

  @Test
  void fewerCandidatesThanAskedGivesAllCandidates() {
    List<StorageNode> nodes = List.of(node("a", "h1", GB), node("b", "h2", GB), down("c", "h3", GB));
    assertEquals(List.of("a", "b"), choose(nodes, 3, 1));
    assertTrue(choose(List.of(), 3, 1).isEmpty());
  }

  @Test
  void ordersByFreeSpace() {
    List<StorageNode> nodes = List.of(node("small", "h1", GB), node("big", "h2", 30 * GB), node("mid", "h3", 5 * GB));
    assertEquals(List.of("big", "mid", "small"), choose(nodes, 3, 1));
    assertEquals(List.of("big"), choose(nodes, 1, 1));
  }

  @Test
  void nodesSharingADiskAreFilledEvenly() {
    // One disk under three nodes: free space differs only by what was written since their last reports.
    List<StorageNode> nodes = List.of(new StorageNode("a", "h", "http://h:1", true, 100 * GB, 7 * GB),
        new StorageNode("b", "h", "http://h:2", true, 99 * GB, 2 * GB),
        new StorageNode("c", "h", "http://h:3", true, 98 * GB, 5 * GB));
    assertEquals(List.of("b", "c"), choose(nodes, 2, 1), "the fewest bytes held first among equally roomy nodes");
  }

  @Test
  void aPlacedReplicaCountsBeforeTheNextHeartbeat() {
    Map<String, StorageNode> nodes = new java.util.LinkedHashMap<>();
    for (String id : List.of("a", "b", "c", "d")) {
      nodes.put(id, new StorageNode(id, "h", "http://h/" + id, true, 100 * GB, 0));
    }
    Map<String, Integer> replicas = new java.util.HashMap<>();
    for (int i = 0; i < 40; i++) {
      for (StorageNode t : Placement.choose(nodes.values(), 2, GB, Set.of())) {
        nodes.put(t.id(), t.withPlaced(GB));
        replicas.merge(t.id(), 1, Integer::sum);
      }
    }
    assertEquals(Map.of("a", 20, "b", 20, "c", 20, "d", 20), replicas, "80 replicas over 4 nodes");
  }

  @Test
  void aNodeWithMuchLessFreeSpaceComesLastWhateverItHolds() {
    List<StorageNode> nodes = List.of(new StorageNode("full", "h1", "http://h1", true, 10 * GB, 0),
        new StorageNode("roomy", "h2", "http://h2", true, 100 * GB, 50 * GB));
    assertEquals(List.of("roomy", "full"), choose(nodes, 2, 1));
  }

  @Test
  void tiesAreBrokenByIdSoPlacementIsDeterministic() {
    List<StorageNode> nodes = new ArrayList<>(List.of(node("n3", "h3", GB), node("n1", "h1", GB), node("n2", "h2", GB)));
    for (long seed = 0; seed < 5; seed++) {
      Collections.shuffle(nodes, new Random(seed));
      assertEquals(List.of("n1", "n2"), choose(nodes, 2, 1));
    }
  }

  @Test
  void skipsDownNodes() {
    List<StorageNode> nodes = List.of(down("roomy", "h1", 100 * GB), node("a", "h2", GB), node("b", "h3", 2 * GB));
    assertEquals(List.of("b", "a"), choose(nodes, 3, 1));
  }

  @Test
  void skipsNodesWhoseHeapIsFull() {
    StorageNode full = StorageNode.fromDirectory(new JsonObject().put("id", "full").put("host", "h1").put("status", "UP")
        .put("diskFree", 100 * GB).put("heapFull", true).put("endpoints", new JsonObject().put("storage", "http://h1:1")));
    assertTrue(full.heapFull());
    assertTrue(full.withPlaced(1).heapFull(), "placing a deposit keeps what the heartbeat said");
    List<StorageNode> nodes = List.of(full, node("a", "h2", GB), node("b", "h3", 2 * GB));
    assertEquals(List.of("b", "a"), choose(nodes, 3, 1));
  }

  @Test
  void skipsNodesWithoutUrl() {
    List<StorageNode> nodes = List.of(new StorageNode("nourl", "h1", null, true, 100 * GB, 0), node("a", "h2", GB));
    assertEquals(List.of("a"), choose(nodes, 2, 1));
  }

  @Test
  void directoryRecordWithoutStorageEndpointHasNoUrl() {
    StorageNode n = StorageNode.fromDirectory(new JsonObject().put("id", "x").put("host", "h").put("status", "UP")
        .put("diskFree", 5L).put("endpoints", new JsonObject().put("gateway", "http://h:1")));
    assertEquals(null, n.url());
    assertTrue(n.up());
    assertTrue(choose(List.of(n), 1, 1).isEmpty());
    StorageNode downNode = StorageNode.fromDirectory(new JsonObject().put("id", "y").put("status", "DOWN")
        .put("endpoints", new JsonObject().put("storage", "http://h:2")));
    assertFalse(downNode.up());
    assertEquals(0, downNode.diskFree());
  }

  @Test
  void skipsNodesWithoutRoomForTheSize() {
    List<StorageNode> nodes = List.of(node("tiny", "h1", 999), node("exact", "h2", 1000), node("big", "h3", 5000));
    assertEquals(List.of("big", "exact"), choose(nodes, 3, 1000));
    assertEquals(List.of("big"), choose(nodes, 3, 1001));
    assertTrue(choose(nodes, 3, 5001).isEmpty());
    assertEquals(List.of("big", "exact", "tiny"), choose(nodes, 3, 0), "an empty file fits anywhere");
  }

  @Test
  void prefersDistinctHosts() {
    // 4 nodes on 2 hosts; the two roomiest are on the same host
    List<StorageNode> nodes = List.of(node("h1-a", "h1", 100 * GB), node("h1-b", "h1", 90 * GB),
        node("h2-a", "h2", 50 * GB), node("h2-b", "h2", 40 * GB));
    assertEquals(List.of("h1-a", "h2-a"), choose(nodes, 2, 1));
  }

  @Test
  void fallsBackToTheSameHostWhenThereAreNotEnoughHosts() {
    List<StorageNode> nodes = List.of(node("h1-a", "h1", 100 * GB), node("h1-b", "h1", 90 * GB),
        node("h2-a", "h2", 50 * GB), node("h2-b", "h2", 40 * GB));
    List<String> three = choose(nodes, 3, 1);
    assertEquals(List.of("h1-a", "h2-a", "h1-b"), three, "distinct hosts first, then the roomiest of the rest");
    assertEquals(List.of("h1-a", "h2-a", "h1-b", "h2-b"), choose(nodes, 4, 1));
    List<StorageNode> oneHost = List.of(node("a", "only", 3 * GB), node("b", "only", 2 * GB), node("c", "only", GB));
    assertEquals(List.of("a", "b", "c"), choose(oneHost, 3, 1));
  }

  @Test
  void honoursExclude() {
    List<StorageNode> nodes = List.of(node("a", "h1", 30 * GB), node("b", "h2", 20 * GB), node("c", "h3", 10 * GB));
    assertEquals(List.of("b", "c"), ids(Placement.choose(nodes, 2, 1, Set.of("a"))));
    assertEquals(List.of("c"), ids(Placement.choose(nodes, 2, 1, Set.of("a", "b"))));
    assertTrue(Placement.choose(nodes, 2, 1, Set.of("a", "b", "c")).isEmpty());
  }

  @Test
  void honoursHostsTaken() {
    List<StorageNode> nodes = List.of(node("h1-a", "h1", 100 * GB), node("h2-a", "h2", 50 * GB),
        node("h3-a", "h3", 10 * GB));
    // adding a copy for a blob that already has one on h1: another host is better even if it has less room
    assertEquals(List.of("h2-a"), ids(Placement.choose(nodes, 1, 1, Set.of(), Set.of("h1"))));
    assertEquals(List.of("h3-a"), ids(Placement.choose(nodes, 1, 1, Set.of(), Set.of("h1", "h2"))));
    // every host is taken: still places, roomiest first
    assertEquals(List.of("h1-a", "h2-a"), ids(Placement.choose(nodes, 2, 1, Set.of(), Set.of("h1", "h2", "h3"))));
  }

  @Test
  void excludeAndHostsTakenTogether() {
    // a blob on h1-a wants one more copy: not on h1-a itself, preferably not on h1
    List<StorageNode> nodes = List.of(node("h1-a", "h1", 100 * GB), node("h1-b", "h1", 90 * GB),
        node("h2-a", "h2", 10 * GB));
    assertEquals(List.of("h2-a"), ids(Placement.choose(nodes, 1, 1, Set.of("h1-a"), Set.of("h1"))));
    assertEquals(List.of("h2-a", "h1-b"), ids(Placement.choose(nodes, 2, 1, Set.of("h1-a"), Set.of("h1"))));
  }

  @Test
  void doesNotModifyItsInputs() {
    List<StorageNode> nodes = new ArrayList<>(List.of(node("a", "h1", GB), node("b", "h2", 2 * GB)));
    Set<String> taken = new HashSet<>(Set.of("h9"));
    List<StorageNode> copy = List.copyOf(nodes);
    Placement.choose(nodes, 2, 1, new HashSet<>(), taken);
    assertEquals(copy, nodes);
    assertEquals(Set.of("h9"), taken);
  }

  @Test
  void suspectNodesAreLeftOutWhileTheOthersMakeTheQuorum() {
    List<StorageNode> nodes = List.of(node("a", "h1", GB), node("b", "h2", GB), node("c", "h3", GB), node("d", "h4", GB));
    List<String> chosen = ids(Placement.chooseAvoiding(nodes, 3, 2, 1, Set.of(), Set.of("b")));
    assertEquals(3, chosen.size());
    assertFalse(chosen.contains("b"), "the suspect is avoided while three others are there: " + chosen);

    List<String> short1 = ids(Placement.chooseAvoiding(nodes, 3, 2, 1, Set.of(), Set.of("a", "b")));
    assertEquals(Set.of("c", "d"), Set.copyOf(short1), "two unsuspected nodes make the quorum, no suspect added");
  }

  @Test
  void suspectNodesFillInOnlyUpToTheQuorumAndGoLast() {
    List<StorageNode> nodes = List.of(node("a", "h1", GB), node("b", "h2", GB), node("c", "h3", GB));
    List<String> chosen = ids(Placement.chooseAvoiding(nodes, 3, 2, 1, Set.of(), Set.of("a", "b")));
    assertEquals(2, chosen.size());
    assertEquals("c", chosen.get(0), "the unsuspected node heads the pipeline: " + chosen);

    assertEquals(List.of("c"), ids(Placement.chooseAvoiding(nodes, 3, 2, 1, Set.of("a", "b"), Set.of("a", "b"))),
        "an excluded node stays out even to make the quorum");
  }

  @Test
  void aSuspicionLastsItsHoldTimeOrUntilTheNodeIsCleared() {
    SuspectNodes suspects = new SuspectNodes(8_000);
    suspects.suspect("a", 1_000);
    suspects.suspect("b", 2_000);
    assertEquals(Set.of("a", "b"), suspects.at(8_999));
    assertEquals(Set.of("b"), suspects.at(9_000));
    suspects.clear("b");
    assertEquals(Set.of(), suspects.at(9_000));
    suspects.suspect("a", 20_000);
    assertEquals(Set.of("a"), suspects.at(27_999));
  }
}
