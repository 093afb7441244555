import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      '**/node_modules/**',
      '**/dist/**',
      '.cache/**',
      '.venv/**',
      'extension/labextension/**',
      'ui-tests/test-results/**',
      'ui-tests/playwright-report/**'
    ]
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-empty': ['error', { allowEmptyCatch: false }]
    }
  },
  {
    // The browser may only import the protocol part of the library.
    files: ['extension/src/**/*.ts', 'extension/src/**/*.tsx'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: '@pilot-streaming/lib',
              message: 'The browser imports only @pilot-streaming/lib/protocol.'
            }
          ],
          patterns: [
            {
              // gitignore-style: a negation cannot re-include a path whose parent was excluded,
              // so the parent itself is listed under `paths` above.
              group: ['@pilot-streaming/lib/*', '!@pilot-streaming/lib/protocol'],
              message: 'The browser imports only @pilot-streaming/lib/protocol.'
            }
          ]
        }
      ]
    }
  }
);
