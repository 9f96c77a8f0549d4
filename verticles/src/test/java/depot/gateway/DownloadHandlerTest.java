package depot.gateway;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class DownloadHandlerTest {
  private static JsonArray sources(String... urls) {
    JsonArray sources = new JsonArray();
    for (int i = 0; i < urls.length; i++) {
      sources.add(new JsonObject().put("nodeId", "s" + i).put("url", urls[i]));
    }
    return sources;
  }

  private static List<String> ids(JsonArray sources) {
    return sources.stream().map(s -> ((JsonObject) s).getString("nodeId")).toList();
  }

  @Test
  void aReplicaOnTheCallersHostComesFirstAndTheOthersKeepTheirOrder() {
    JsonArray sources = sources("http://10.0.0.1:7001", "http://10.0.0.3:7001", "http://10.0.0.2:7002",
        "http://10.0.0.2:7003");
    assertEquals(List.of("s2", "s3", "s0", "s1"), ids(DownloadHandler.nearestFirst(sources, "10.0.0.2")));
    assertEquals(List.of("s0", "s1", "s2", "s3"), ids(DownloadHandler.nearestFirst(sources, "10.0.0.9")),
        "no replica on that host: the coordinator's order");
    assertEquals(List.of("s0", "s1", "s2", "s3"), ids(DownloadHandler.nearestFirst(sources, null)));
  }
}
