import { Global, Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { Settings } from '../config/settings.js';
import { I18n } from './i18n.service.js';

/** The catalogues, loaded and compiled once, for pages, mails and anything that speaks. */
@Global()
@Module({
  providers: [
    {
      provide: I18n,
      inject: [ConfigService],
      useFactory: (config: ConfigService<Settings, true>) =>
        new I18n(config.get('i18n', { infer: true }).defaultLocale),
    },
  ],
  exports: [I18n],
})
export class I18nModule {}
