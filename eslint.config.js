import js from '@eslint/js';
import tseslint from 'typescript-eslint';

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
    files: ['scripts/**/*.mjs', 'eslint.config.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
  {
    // The domain is pure: no SDK, database, clock or I/O (ARCHITECTURE.md §1.4).
    files: ['src/domain/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: ['node:*', '@slack/*', 'jira.js', '@okta/*', '@googleapis/*', '@microsoft/*', 'better-sqlite3', 'node-cron', 'pino', '../adapters/*', '../app/*', '../outbox/*'] },
      ],
      'no-restricted-properties': ['error', { object: 'Date', property: 'now', message: 'The domain takes time as an argument.' }],
      'no-restricted-syntax': ['error', { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: 'The domain takes time as an argument.' }],
    },
  },
);
