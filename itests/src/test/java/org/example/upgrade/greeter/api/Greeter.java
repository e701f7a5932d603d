package org.example.upgrade.greeter.api;

/** What the greeter test bundle exports (HotUpgradeIT): the consumer bundle imports it, so it is refreshed with it. */
public interface Greeter {
    String greet(String name);
}
