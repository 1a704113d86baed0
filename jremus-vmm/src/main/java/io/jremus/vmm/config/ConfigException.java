package io.jremus.vmm.config;

/**
 * A mistake in a VM's configuration: in its TOML file or in a command-line flag that overrides
 * a value from it. The message is a single line for the user that names the source, the key and
 * the problem, for example {@code vm.toml: memory: "12X" is not a size (use e.g. 256M or 1G)}.
 * Callers print the message as it is and exit; a user mistake never shows a stack trace.
 */
public final class ConfigException extends Exception {
    public ConfigException(String message) {
        super(message);
    }
}
