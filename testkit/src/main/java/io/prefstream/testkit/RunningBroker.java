package io.prefstream.testkit;

/** A started broker: where to reach it, and how to stop it. */
interface RunningBroker extends AutoCloseable {
  String bootstrapServers();

  @Override
  void close();
}
