import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const PROCESS_ENV_MESSAGE =
  'Read settings through src/config/settings.ts (validated once at start, typed), not process.env';

/** globalThis.process.env, which no-restricted-properties does not see. */
const GLOBAL_PROCESS_ENV = {
  selector: "MemberExpression[object.property.name='process'][property.name='env']",
  message: `${PROCESS_ENV_MESSAGE} (globalThis.process.env included).`,
};

export default tseslint.config(
  {
    ignores: ['dist/', 'var/', 'coverage/', 'node_modules/', 'eslint.config.js', 'jest.config.js'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/no-extraneous-class': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      eqeqeq: ['error', 'always'],
      curly: ['error', 'all'],
    },
  },
  {
    // Settings come from the environment once, validated at start (src/config/settings.ts), and
    // reach the rest of the code as typed settings or ConfigService. Tests and benchmarks, which
    // start the service, may read and set the environment.
    files: ['src/**/*.ts'],
    ignores: ['src/config/**'],
    rules: {
      'no-restricted-properties': [
        'error',
        {
          object: 'process',
          property: 'env',
          message: `${PROCESS_ENV_MESSAGE}.`,
        },
      ],
      'no-restricted-imports': [
        'error',
        {
          paths: ['process', 'node:process'].map((name) => ({
            name,
            importNames: ['env'],
            message: `${PROCESS_ENV_MESSAGE}.`,
          })),
        },
      ],
      'no-restricted-syntax': ['error', GLOBAL_PROCESS_ENV],
    },
  },
  {
    // A page controller leaves the session, the CSRF check and the order of steps to its guards
    // (@HostedPages(), @SignedInPage(), @ResetStep(), @TwoFactorStep(), @InteractionPages()):
    // a handler that loads or checks them by hand is one a new page can forget.
    files: ['src/**/*pages.controller.ts'],
    rules: {
      // Repeats GLOBAL_PROCESS_ENV: a rule set again here replaces the one above.
      'no-restricted-syntax': [
        'error',
        GLOBAL_PROCESS_ENV,
        {
          selector:
            'CallExpression[callee.property.name=/^(load|csrfMatches|challenge|resetToken|authorizeStep|interactionDetails)$/]',
          message:
            'Page controllers take the session, CSRF check and step from their guards (@PageSession(), @SignInChallenge(), @CurrentReset(), @CurrentInteraction()), never by hand.',
        },
      ],
    },
  },
  {
    files: ['test/**/*.ts', 'src/**/*.spec.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/unbound-method': 'off',
    },
  },
  {
    // Plain-JavaScript benchmarks run against dist/, and the build's scripts: no type
    // information to lint them with.
    files: ['bench/**/*.mjs', 'src/build/**/*.mjs', 'src/build/**/*.cjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      globals: {
        process: 'readonly',
        performance: 'readonly',
        fetch: 'readonly',
        URL: 'readonly',
        setTimeout: 'readonly',
        URLSearchParams: 'readonly',
        Buffer: 'readonly',
        require: 'readonly',
        module: 'writable',
      },
    },
  },
);
