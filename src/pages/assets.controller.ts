import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Controller, Get, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Public } from '../common/decorators/public.decorator.js';
import { PAGE_TEMPLATE_DIR } from './pages.setup.js';

/** The pages' one stylesheet, read once; served by Portcullis itself (the CSP allows only 'self'). */
@Public()
@ApiExcludeController()
@Controller('assets')
export class AssetsController {
  private readonly css = readFileSync(join(PAGE_TEMPLATE_DIR, 'assets', 'app.css'), 'utf8');

  @Get('app.css')
  stylesheet(@Res() reply: FastifyReply): FastifyReply {
    return reply
      .type('text/css; charset=utf-8')
      .header('cache-control', 'public, max-age=3600')
      .send(this.css);
  }
}
