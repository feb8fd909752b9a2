// Lint: a small, type-aware rule set aimed at bugs, not style. `npm run lint` runs it with
// --max-warnings 0. A disable comment gives its reason after `--`; one that no longer suppresses
// anything is itself an error.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default defineConfig(
  {
    ignores: ['dist/', 'build/', 'native/build-*/', 'bench/results/', 'node_modules/'],
  },
  {
    linterOptions: { reportUnusedDisableDirectives: 'error' },
  },
  {
    files: ['**/*.ts', '**/*.js', '**/*.mjs'],
    extends: [js.configs.recommended],
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: 'module',
      parser: tseslint.parser,
      parserOptions: {
        // One program for every linted file (see tsconfig.eslint.json), so the promise rules know types.
        project: './tsconfig.eslint.json',
        tsconfigRootDir: import.meta.dirname,
      },
      globals: globals.node,
    },
    plugins: { '@typescript-eslint': tseslint.plugin },
    rules: {
      // A promise nobody awaits loses its rejection (an unhandled rejection ends the process).
      // `void p` marks the deliberate cases.
      '@typescript-eslint/no-floating-promises': 'error',
      // An async function where a void callback is expected (an event listener, setTimeout, a
      // condition): its rejection goes nowhere, or its promise is always truthy.
      '@typescript-eslint/no-misused-promises': 'error',
      'no-unused-vars': 'off',
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          args: 'after-used',
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          caughtErrorsIgnorePattern: '^_',
          destructuredArrayIgnorePattern: '^_',
          ignoreRestSiblings: true,
        },
      ],
      '@typescript-eslint/no-explicit-any': 'error',
      // Style, not bugs: off (they come with eslint's and typescript-eslint's recommended sets).
      'no-extra-boolean-cast': 'off',
      'no-regex-spaces': 'off',
      'no-useless-escape': 'off',
    },
  },
  {
    // TypeScript itself reports what these core rules would (undefined names, redeclarations,
    // duplicate members...), and they misread types and overloads.
    files: ['**/*.ts'],
    extends: [tseslint.configs.eslintRecommended],
    rules: { 'no-var': 'off', 'prefer-const': 'off', 'prefer-rest-params': 'off', 'prefer-spread': 'off' },
  },
  {
    // The console's page: browser modules, served as they are (no build). Type-aware rules need
    // them in tsconfig.eslint.json's program, which would type-check DOM code against Node's types.
    files: ['console/**/*.js'],
    languageOptions: { globals: globals.browser, parserOptions: { project: null } },
    rules: { '@typescript-eslint/no-floating-promises': 'off', '@typescript-eslint/no-misused-promises': 'off' },
  },
);
