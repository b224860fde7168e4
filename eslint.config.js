import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Service SDKs and the database driver: only adapters (and compose.ts) may use them. */
const SDKS = ['@slack/*', 'jira.js', '@okta/*', '@googleapis/*', '@microsoft/*', 'better-sqlite3', 'node-cron'];
const SDK_RULE = { group: SDKS, message: 'Service SDKs and the database belong in src/adapters/, composed by compose.ts.' };
/** The connectors' SDKs, loaded only when a connector of their type is built. */
const LAZY_SDKS = ['jira.js', '@googleapis/admin', '@microsoft/microsoft-graph-client', '@aws-sdk/client-sso-admin', '@aws-sdk/client-identitystore'];
/** The composition root and process entries, which depend on everything: nothing inside imports them. */
const ENTRIES = { regex: '^(\\.\\./)+(compose|main|cli|check|effects-cli|evidence-cli)\\.js$|^(\\.\\./)+jobs/', message: 'Entry points and jobs depend on app/, not the other way round.' };

/** Use cases see adapters only through ports (src/app/ports/). */
function appImports() {
  return [
    'error',
    {
      patterns: [
        SDK_RULE,
        ENTRIES,
        {
          regex: '^(\\.\\./)+adapters/',
          message: 'app/ depends on its ports (src/app/ports/); adapters implement them and compose.ts wires them in.',
        },
      ],
    },
  ];
}

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'data/', '.tmp/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'off',
    },
  },
  {
    // Type-aware rules over every TypeScript file (tsconfig.json includes them all): a promise
    // nobody awaits or catches is a lost failure, or an unhandled rejection that ends the process.
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        // node:test's test() and describe() return promises the runner itself awaits.
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'describe', 'it', 'suite'] }] },
      ],
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
    },
  },
  {
    files: ['scripts/**/*.mjs', 'eslint.config.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
  {
    // A connector's SDK is loaded when a connector of its type is built, not when the bot starts
    // (src/adapters/lazyModule.ts): its types may be imported, its values not. (The blocks below
    // keep these SDKs out of domain/, app/ and outbox/ altogether.)
    files: ['src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: LAZY_SDKS.map((name) => ({ name, allowTypeImports: true, message: `${name} is loaded through lazyModule (src/adapters/lazyModule.ts) when its connector is built; import its types only.` })),
        },
      ],
    },
  },
  {
    // The domain is pure: no SDK, database, clock or I/O (ARCHITECTURE.md §1.4).
    files: ['src/domain/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: ['node:*', ...SDKS, 'pino', '../adapters/*', '../app/*', '../outbox/*'] },
      ],
      'no-restricted-properties': ['error', { object: 'Date', property: 'now', message: 'The domain takes time as an argument.' }],
      'no-restricted-syntax': ['error', { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: 'The domain takes time as an argument.' }],
    },
  },
  {
    // Use cases: the domain, the outbox (effect types, enqueue, errors) and their own ports.
    files: ['src/app/**/*.ts'],
    rules: { 'no-restricted-imports': appImports() },
  },
  {
    // The outbox knows its storage only through its port (src/outbox/repository.ts), and knows
    // nothing of the use cases: queue policy and lanes are passed in.
    files: ['src/outbox/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            SDK_RULE,
            ENTRIES,
            { regex: '^(\\.\\./)+(adapters|app)/', message: 'outbox/ depends on nothing of the app: storage comes through its port, policy as options.' },
          ],
        },
      ],
    },
  },
);
