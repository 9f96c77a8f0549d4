package depot.storage;

import depot.protocol.DepotException;

import java.util.ArrayList;
import java.util.List;

/** One replica of a write pipeline: the node's id and the base URL of its data endpoint. */
public record PipelineHop(String nodeId, String url) {

  /** {@code nodeId=http://host:port,nodeId=...}; an empty header means the pipeline ends here. */
  public static List<PipelineHop> parse(String header) {
    List<PipelineHop> hops = new ArrayList<>();
    if (header == null || header.isBlank()) {
      return hops;
    }
    for (String part : header.split(",")) {
      int eq = part.indexOf('=');
      if (eq <= 0 || !(part.startsWith("http://", eq + 1) || part.startsWith("https://", eq + 1))) {
        throw DepotException.badRequest("malformed pipeline hop '" + part + "'");
      }
      hops.add(new PipelineHop(part.substring(0, eq).trim(), part.substring(eq + 1).trim()));
    }
    return hops;
  }

  /** The hops after the head of an allocation's pipeline ({@code [{"nodeId","url"}...]}). */
  public static List<PipelineHop> after(io.vertx.core.json.JsonArray pipeline) {
    List<PipelineHop> rest = new java.util.ArrayList<>();
    for (int i = 1; i < pipeline.size(); i++) {
      rest.add(new PipelineHop(pipeline.getJsonObject(i).getString("nodeId"), pipeline.getJsonObject(i).getString("url")));
    }
    return rest;
  }

  public static String format(List<PipelineHop> hops) {
    StringBuilder sb = new StringBuilder();
    for (PipelineHop hop : hops) {
      if (!sb.isEmpty()) {
        sb.append(',');
      }
      sb.append(hop.nodeId()).append('=').append(hop.url());
    }
    return sb.toString();
  }
}
