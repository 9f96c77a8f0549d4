package depot.coordinator;

import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

class BerkeleyAverageTest {

  @Test
  void averagesTheOffsetsAndCorrectsEveryNodeToIt() {
    Map<String, Long> offsets = new LinkedHashMap<>();
    offsets.put("master", 0L);
    offsets.put("a", 30L);
    offsets.put("b", -60L);
    offsets.put("c", 10L);
    assertEquals(-5, BerkeleyAverage.average(offsets, 10_000));
    Map<String, Long> corrections = BerkeleyAverage.corrections(offsets, 10_000);
    assertEquals(-5, corrections.get("master"));
    assertEquals(-35, corrections.get("a"));
    assertEquals(55, corrections.get("b"));
    assertEquals(-15, corrections.get("c"));
    offsets.forEach((node, offset) -> assertEquals(-5, offset + corrections.get(node), node));
  }

  @Test
  void aClockFarOffTheMedianDoesNotDragTheOthersButIsCorrected() {
    Map<String, Long> offsets = new LinkedHashMap<>();
    offsets.put("master", 0L);
    offsets.put("a", 20L);
    offsets.put("b", 40L);
    offsets.put("broken", 3_600_000L);
    assertEquals(20, BerkeleyAverage.average(offsets, 1_000));
    assertEquals(20 - 3_600_000L, BerkeleyAverage.corrections(offsets, 1_000).get("broken"));
  }

  @Test
  void aLoneMasterKeepsItsTime() {
    assertEquals(0, BerkeleyAverage.average(Map.of("master", 0L), 1_000));
    assertEquals(0, BerkeleyAverage.average(Map.of(), 1_000));
  }
}
