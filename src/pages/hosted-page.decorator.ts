import { applyDecorators, UseFilters, UseGuards } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { Public } from '../common/decorators/public.decorator.js';
import { CsrfGuard } from './guards/csrf.guard.js';
import { PageSessionGuard } from './guards/page-session.guard.js';
import { PagesExceptionFilter } from './pages-exception.filter.js';

/**
 * A controller of hosted HTML pages: no bearer token (the page session cookie instead), out of
 * the OpenAPI document, its session loaded before each handler (@PageSession()), every form post
 * CSRF-checked, and refusals answered as pages (PagesExceptionFilter).
 */
export function HostedPages(): ClassDecorator {
  return applyDecorators(
    Public(),
    ApiExcludeController(),
    UseFilters(PagesExceptionFilter),
    UseGuards(PageSessionGuard, CsrfGuard),
  );
}
