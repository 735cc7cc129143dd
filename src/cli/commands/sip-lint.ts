/**
 * `p2psip sip-lint FILE…` — placeholder registered so the CLI table compiles;
 * the real implementation replaces this file (issue 2).
 */
import type { Command } from '../command.js';

export const sipLint: Command = {
  name: 'sip-lint',
  summary: 'check raw SIP message files as a node would before routing them',
  usage: 'Usage: p2psip sip-lint FILE...',
  async run(_argv, io) {
    io.stderr('sip-lint: not implemented yet');
    return 1;
  },
};
