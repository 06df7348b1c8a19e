/** Adds settings of the config module to a command as flags, and reads them back. */
import { Option, type Command } from 'commander';
import { SETTINGS, loadConfig, type Config, type RawFlags } from '#src/config/config.js';

type Key = keyof Config;

/** Adds the given settings (all when omitted) as flags, each documented with its variable. */
export function addSettingOptions(command: Command, keys?: readonly Key[]): Command {
  for (const setting of SETTINGS) {
    if (keys !== undefined && !keys.includes(setting.key)) continue;
    const isBoolean = typeof setting.fallback() === 'boolean';
    const flag = isBoolean ? `${setting.flag} [bool]` : `${setting.flag} <value>`;
    command.addOption(new Option(flag, `${setting.doc} [env ${setting.env}]`));
  }
  return command;
}

/** The validated config from a command's parsed options (flags win over variables). */
export function configFromOptions(options: Record<string, string | boolean | undefined>): Config {
  const flags: RawFlags = {};
  for (const setting of SETTINGS) flags[setting.key] = options[setting.key];
  return loadConfig(flags);
}
