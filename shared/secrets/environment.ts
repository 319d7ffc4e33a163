/** Where declarations and the Connect settings are read: `process.env`, or a stand-in for it. */
export type Environment = Readonly<Record<string, string | undefined>>;
