package depot.it;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** A real cluster (main plus three storage nodes) shared by the tests of one class, and an API client for it. */
abstract class ClusterTestBase {
  static TestCluster cluster;
  static Api api;

  @BeforeAll
  static void startCluster() throws Exception {
    cluster = TestCluster.start(3);
    api = new Api(cluster.baseUrl());
  }

  @AfterAll
  static void stopCluster() throws Exception {
    if (cluster != null) {
      cluster.close();
      cluster = null;
    }
  }
}
