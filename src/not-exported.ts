/**
 * What `import "medusa/<anything else>"` resolves to: Medusa's modules are
 * reached through its entry points only, so that a consumer never
 * depends on a file layout that changes between releases.
 *
 * @since 0.1.0
 */
throw new Error(
  "This path is not an entry point of the medusa package. Import from \"medusa\" (the Effect API: Medusa, the " +
    "platform layers, Live, Durable, errors and models), \"medusa/promise\" (createMedusa), \"medusa/sandbox\" " +
    "(the platform emulators) or \"medusa/server\" (the HTTP API of `medusa serve`)."
)

export {}
