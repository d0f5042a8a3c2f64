// The patterns the request schemas use, each with what it takes in words:
// a validation error then says "must be an integer from 1 to 100" where
// Ajv alone would show the regular expression.

import { ALIAS_PATTERN } from '../../serving/aliases.ts'

const words = new Map<string, string>()

/** Registers `pattern` with its words; returns the pattern. */
function worded(pattern: string, phrase: string): string {
  words.set(pattern, phrase)
  return pattern
}

/** What a pattern of these schemas takes, in words, if it is one. */
export function patternWords(pattern: string): string | undefined {
  return words.get(pattern)
}

export const PAGE_SIZE = worded('^(100|[1-9][0-9]?)$',
  'an integer from 1 to 100')

export const PAGE_OFFSET = worded('^[0-9]{1,9}$',
  'an integer from 0 to 999999999')

export const VERSION_NUMBER = worded('^[1-9][0-9]{0,8}$',
  'a version number: an integer from 1')

export const NO_CONTROL_CHARACTERS = worded('^[^\\u0000-\\u001f\\u007f]+$',
  'text without control characters')

// Not a quote or a line break, which CSV uses for itself.
export const CSV_DELIMITER = worded('^[^"\\r\\n\\u0000]$',
  'one character that is not a quote or a line break')

export const IMAGE_SIZE = worded('^[1-9][0-9]{0,3}(x[1-9][0-9]{0,3})?$',
  'WIDTHxHEIGHT or one number, each from 1 to 9999')

export const ALIAS_NAME = worded(ALIAS_PATTERN, 'an alias: a lowercase ' +
  'letter, then up to 62 lowercase letters, digits or -')
