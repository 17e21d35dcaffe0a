// Configuration of the server and CLI: schema, layered loading, masking.
export { configSchema, policyConfigSchema, comfyuiConfigSchema, type ComfyuiConfig, DEFAULT_PORT, MIN_TOKEN_LENGTH, LOG_LEVELS, type AgiqaConfig, type ConfigInput, type PolicyConfig } from './config-schema.js';
export { loadConfig, maskConfig, isLoopbackHost, CONFIG_FILE_NAME, type ConfigFlags, type LoadConfigOptions, type LoadedConfig } from './load-config.js';
export { SettingsHolder, settingsSchema, SETTINGS_FILE, type Settings, type SettingsInput } from './settings.js';
